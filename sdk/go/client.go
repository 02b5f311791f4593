// The client: Dial, Upload (a directory streamed as a tar through a pipe), Get, ListModels / ListVersions
// iterators over pages, Watch, Download and Delete.
package kiln

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	kilnv1 "github.com/kiln-dev/kiln/sdk/go/gen/kiln/v1"
)

// ChunkBytes is the size of an upload message: far under the 64 MiB message limit, large enough to keep per-message
// overhead small.
const ChunkBytes = 1 << 20

// MaxMessageBytes is Kiln's message size limit (servers and clients alike).
const MaxMessageBytes = 64 << 20

// Client talks to one Kiln registry.
type Client struct {
	conn *grpc.ClientConn
	rpc  kilnv1.RegistryClient
}

// Dial connects (lazily) to a registry at host:port over plaintext; extra options go to grpc.NewClient after the
// defaults, so they can replace the credentials (WithTLS for a registry serving TLS).
func Dial(address string, opts ...grpc.DialOption) (*Client, error) {
	all := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
	}, opts...)
	conn, err := grpc.NewClient(address, all...)
	if err != nil {
		return nil, fmt.Errorf("kiln: dial %s: %w", address, err)
	}
	return &Client{conn: conn, rpc: kilnv1.NewRegistryClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Registry is the generated client, for calls this package does not wrap.
func (c *Client) Registry() kilnv1.RegistryClient { return c.rpc }

// UploadOptions are the optional parts of an upload.
type UploadOptions struct {
	Labels   map[string]string
	Metadata map[string]string
	// Manifest (kiln.yaml or Hydrosphere serving.yaml text) to use instead of one in the files.
	Manifest string
	// Progress is called as chunks go out with the bytes of file content sent and their total (the file's size, or
	// the sum of a directory's file sizes; tar headers are not counted), so the last call has sent == total.
	Progress func(sent, total int64)
	// OnSkip is told of each broken symlink, symlink loop or special file a directory upload leaves out (nil: a
	// warning through the log package).
	OnSkip func(path, why string)
}

// Upload sends a directory (as a tar built on the fly), a .tar/.tar.gz archive, or a single file as a new version of
// model name, and returns the version. Memory use does not grow with the model's size. In a directory, a symlink
// uploads what it points to under the link's path (a linked folder is followed unless that would loop), as the kiln
// CLI does; broken links, loops and special files are skipped and reported to opts.OnSkip.
func (c *Client) Upload(ctx context.Context, path, name string, opts *UploadOptions) (*kilnv1.ModelVersion, error) {
	if opts == nil {
		opts = &UploadOptions{}
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	header := &kilnv1.UploadHeader{Model: name, Manifest: opts.Manifest, Labels: opts.Labels, Metadata: opts.Metadata}
	var body io.ReadCloser
	var total int64
	var payload *atomic.Int64 // a directory's file bytes written into the tar so far
	lower := strings.ToLower(path)
	switch {
	case info.IsDir():
		onSkip := opts.OnSkip
		if onSkip == nil {
			onSkip = func(p, why string) { log.Printf("kiln: skipping %s: %s", p, why) }
		}
		files, err := walk(path, onSkip)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			total += f.size
		}
		header.Format = kilnv1.ArchiveFormat_ARCHIVE_FORMAT_TAR
		payload = new(atomic.Int64)
		body = tarDirectory(files, payload)
	default:
		switch {
		case strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz"):
			header.Format = kilnv1.ArchiveFormat_ARCHIVE_FORMAT_TAR_GZ
		case strings.HasSuffix(lower, ".tar"):
			header.Format = kilnv1.ArchiveFormat_ARCHIVE_FORMAT_TAR
		default:
			header.Format = kilnv1.ArchiveFormat_ARCHIVE_FORMAT_FILE
			header.FileName = filepath.Base(path)
		}
		total = info.Size()
		header.ExpectedSize = total
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		body = f
	}
	defer body.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a failed upload cancels the call, so the registry keeps nothing of it
	stream, err := c.rpc.UploadModel(ctx)
	if err != nil {
		return nil, fromRPC(err)
	}
	if err := stream.Send(&kilnv1.UploadModelRequest{Content: &kilnv1.UploadModelRequest_Header{Header: header}}); err != nil {
		_, rerr := stream.CloseAndRecv()
		return nil, fromRPC(rerr)
	}
	var sent, reported int64
	for {
		// A fresh buffer per chunk: grpc-go says a message must not change after SendMsg (stats handlers may read it
		// later). The garbage collector keeps memory at a few chunks.
		buf := make([]byte, ChunkBytes)
		n, rerr := io.ReadFull(body, buf)
		if n > 0 {
			if err := stream.Send(&kilnv1.UploadModelRequest{Content: &kilnv1.UploadModelRequest_Chunk{Chunk: buf[:n]}}); err != nil {
				// io.EOF here means the server ended the call: its status comes from CloseAndRecv.
				_, rerr := stream.CloseAndRecv()
				if rerr == nil {
					rerr = err
				}
				return nil, fromRPC(rerr)
			}
			sent += int64(n)
			done := sent
			if payload != nil {
				// Ahead of what went out by at most one read of the tar writer (32 KiB): it blocks on the pipe.
				done = payload.Load()
			}
			if opts.Progress != nil && done > reported {
				reported = done
				opts.Progress(done, total)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("kiln: reading %s: %w", path, rerr)
		}
	}
	v, err := stream.CloseAndRecv()
	return v, fromRPC(err)
}

type localFile struct {
	rel, abs string
	size     int64
	mode     fs.FileMode
}

// walk lists a directory's files, sorted by relative path, as the kiln CLI sees them: a symlink counts as what it
// points to (so a Hugging Face snapshot, every file a link into ../blobs, uploads its content under the links' names)
// and a linked folder is followed unless it encloses the link; broken links, loops and special files go to onSkip.
func walk(root string, onSkip func(path, why string)) ([]localFile, error) {
	var files []localFile
	var visit func(rel string, enclosing []string) error
	visit = func(rel string, enclosing []string) error {
		dir := filepath.Join(root, filepath.FromSlash(rel))
		entries, err := os.ReadDir(dir) // sorted by name
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.Name()
			if rel != "" {
				name = rel + "/" + name
			}
			abs := filepath.Join(dir, e.Name())
			info, err := os.Stat(abs) // through symlinks
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ELOOP) {
				target, _ := os.Readlink(abs)
				kind := "broken symlink"
				if errors.Is(err, syscall.ELOOP) {
					kind = "symlink loop"
				}
				onSkip(abs, fmt.Sprintf("is a %s (-> %s)", kind, target))
				continue
			}
			if err != nil {
				return err
			}
			switch {
			case info.Mode().IsRegular():
				files = append(files, localFile{rel: name, abs: abs, size: info.Size(), mode: info.Mode()})
			case info.IsDir():
				real, err := filepath.EvalSymlinks(abs)
				if err != nil {
					return err
				}
				if slices.Contains(enclosing, real) {
					onSkip(abs, fmt.Sprintf("is a symlink to %s, a folder that contains it: following it would loop", real))
				} else if err := visit(name, append(slices.Clone(enclosing), real)); err != nil {
					return err
				}
			default:
				onSkip(abs, fmt.Sprintf("is a special file (mode %s), not a regular file", info.Mode().Type()))
			}
		}
		return nil
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	if err := visit("", []string{real}); err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files, nil
}

// countingReader adds what it reads to n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// tarDirectory streams a tar of the files through a pipe: the writer goroutine blocks until the upload reads, so
// memory stays at one chunk. payload counts the file bytes written.
func tarDirectory(files []localFile, payload *atomic.Int64) io.ReadCloser {
	r, w := io.Pipe()
	go func() {
		tw := tar.NewWriter(w)
		for _, f := range files {
			if err := addFile(tw, f, payload); err != nil {
				w.CloseWithError(err)
				return
			}
		}
		w.CloseWithError(tw.Close())
	}()
	return r
}

func addFile(tw *tar.Writer, f localFile, payload *atomic.Int64) error {
	mode := int64(0o644)
	if f.mode&0o111 != 0 {
		mode = 0o755
	}
	in, err := os.Open(f.abs)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.rel, Size: f.size, Mode: mode, Format: tar.FormatPAX}); err != nil {
		return err
	}
	// Exactly the listed size; a file that changed size since it was listed fails the upload rather than sending a
	// torn file.
	_, err = io.CopyN(tw, countingReader{in, payload}, f.size)
	if err == io.EOF {
		return fmt.Errorf("%s shrank while being uploaded (listed at %d bytes)", f.abs, f.size)
	}
	if err != nil {
		return err
	}
	if n, _ := in.Read(make([]byte, 1)); n > 0 {
		return fmt.Errorf("%s grew while being uploaded (listed at %d bytes)", f.abs, f.size)
	}
	return nil
}

// Get returns one version; version 0 is the newest that is not deleted.
func (c *Client) Get(ctx context.Context, name string, version int64) (*kilnv1.ModelVersion, error) {
	v, err := c.rpc.GetModelVersion(ctx, &kilnv1.GetModelVersionRequest{Model: name, Version: version})
	return v, fromRPC(err)
}

// GetAlias returns the version an alias ("production") points at.
func (c *Client) GetAlias(ctx context.Context, name, alias string) (*kilnv1.ModelVersion, error) {
	v, err := c.rpc.GetModelVersion(ctx, &kilnv1.GetModelVersionRequest{Model: name, Alias: alias})
	return v, fromRPC(err)
}

// AliasOptions are SetAlias's optional settings.
type AliasOptions struct {
	// Protected is the alias's protection after the call (changing it, or moving a protected alias, takes admin).
	Protected bool
	// AllowBreakingChanges moves a protected alias to a version whose contract breaks the current one's (audited).
	AllowBreakingChanges bool
	// Reason is kept in the alias's history and the audit trail.
	Reason string
}

// SetAlias points an alias at a released version; its image tag follows.
func (c *Client) SetAlias(ctx context.Context, name, alias string, version int64, opts *AliasOptions) (*kilnv1.ModelAlias, error) {
	if opts == nil {
		opts = &AliasOptions{}
	}
	a, err := c.rpc.SetModelAlias(ctx, &kilnv1.SetModelAliasRequest{
		Model: name, Alias: alias, Version: version, Protected: opts.Protected,
		AllowBreakingChanges: opts.AllowBreakingChanges, Reason: opts.Reason,
	})
	return a, fromRPC(err)
}

// DeleteAlias deletes an alias (its history stays) and returns it as it was.
func (c *Client) DeleteAlias(ctx context.Context, name, alias, reason string) (*kilnv1.ModelAlias, error) {
	a, err := c.rpc.DeleteModelAlias(ctx, &kilnv1.DeleteModelAliasRequest{Model: name, Alias: alias, Reason: reason})
	return a, fromRPC(err)
}

// ListAliases returns a model's aliases by name.
func (c *Client) ListAliases(ctx context.Context, name string) ([]*kilnv1.ModelAlias, error) {
	res, err := c.rpc.ListModelAliases(ctx, &kilnv1.ListModelAliasesRequest{Model: name})
	if err != nil {
		return nil, fromRPC(err)
	}
	return res.Aliases, nil
}

// ListModelsOption narrows a model listing.
type ListModelsOption func(*kilnv1.ListModelsRequest)

// InNamespace lists only the models of one namespace ("team" for "team/..."; "default" for names without a slash).
func InNamespace(namespace string) ListModelsOption {
	return func(r *kilnv1.ListModelsRequest) { r.Namespace = namespace }
}

// ListModels iterates every model whose name starts with prefix, sorted by name, fetching pages as it goes. An error
// ends the iteration.
func (c *Client) ListModels(ctx context.Context, prefix string, opts ...ListModelsOption) iter.Seq2[*kilnv1.Model, error] {
	return func(yield func(*kilnv1.Model, error) bool) {
		token := ""
		for {
			req := &kilnv1.ListModelsRequest{NamePrefix: prefix, PageToken: token}
			for _, o := range opts {
				o(req)
			}
			page, err := c.rpc.ListModels(ctx, req)
			if err != nil {
				yield(nil, fromRPC(err))
				return
			}
			for _, m := range page.Models {
				if !yield(m, nil) {
					return
				}
			}
			if token = page.NextPageToken; token == "" {
				return
			}
		}
	}
}

// ListVersionsOptions filter and page a version listing.
type ListVersionsOptions struct {
	// Statuses to include; empty for every status but DELETED.
	Statuses []kilnv1.ModelVersionStatus
	// Labels every version must have.
	Labels map[string]string
	// PageSize per call (0: the server's default).
	PageSize int32
}

// ListVersions iterates a model's versions, newest first, fetching pages as it goes. An error ends the iteration.
func (c *Client) ListVersions(ctx context.Context, name string, opts *ListVersionsOptions) iter.Seq2[*kilnv1.ModelVersion, error] {
	if opts == nil {
		opts = &ListVersionsOptions{}
	}
	return func(yield func(*kilnv1.ModelVersion, error) bool) {
		token := ""
		for {
			page, err := c.rpc.ListModelVersions(ctx, &kilnv1.ListModelVersionsRequest{
				Model: name, PageSize: opts.PageSize, PageToken: token, Statuses: opts.Statuses, Labels: opts.Labels,
			})
			if err != nil {
				yield(nil, fromRPC(err))
				return
			}
			for _, v := range page.Versions {
				if !yield(v, nil) {
					return
				}
			}
			if token = page.NextPageToken; token == "" {
				return
			}
		}
	}
}

// WatchEvent is one event of a watch: exactly one of Version (the version as it is now: first, then after each
// status change) and Log (a build log line) is set.
type WatchEvent struct {
	Version *kilnv1.ModelVersion
	Log     *kilnv1.BuildLogLine
}

// Watch iterates a version's status changes and build log lines until it is final (RELEASED, FAILED, DELETED).
// Stopping the loop early cancels the stream.
func (c *Client) Watch(ctx context.Context, name string, version int64) iter.Seq2[WatchEvent, error] {
	return func(yield func(WatchEvent, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.rpc.WatchModelVersion(ctx, &kilnv1.WatchModelVersionRequest{Model: name, Version: version})
		if err != nil {
			yield(WatchEvent{}, fromRPC(err))
			return
		}
		for {
			res, err := stream.Recv()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(WatchEvent{}, fromRPC(err))
				return
			}
			if !yield(WatchEvent{Version: res.GetVersion(), Log: res.GetLog()}, nil) {
				return
			}
		}
	}
}

// Download writes a version's files as a tar archive to w; paths limits it to those files (empty: all).
func (c *Client) Download(ctx context.Context, name string, version int64, w io.Writer, paths ...string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.DownloadModelVersion(ctx, &kilnv1.DownloadModelVersionRequest{Model: name, Version: version, Paths: paths})
	if err != nil {
		return fromRPC(err)
	}
	for {
		res, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fromRPC(err)
		}
		if _, err := w.Write(res.Chunk); err != nil {
			return err
		}
	}
}

// DownloadTo extracts a version's files into dir (created if missing), streaming: nothing is held in memory. The
// files go to a temporary folder beside dir first and are moved into place only once the download is complete, so a
// failed download leaves nothing behind.
func (c *Client) DownloadTo(ctx context.Context, name string, version int64, dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	staging, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".kiln-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- extract(r, staging) }()
	err = c.Download(ctx, name, version, w)
	w.CloseWithError(err)
	if xerr := <-done; err == nil {
		err = xerr
	}
	r.Close()
	if err != nil {
		return err
	}
	return moveTree(staging, dir)
}

// moveTree moves a finished download into place: the whole folder when dest does not exist, else file by file (each
// an atomic rename, replacing a file of the same path).
func moveTree(src, dest string) error {
	if _, err := os.Lstat(dest); errors.Is(err, fs.ErrNotExist) {
		if err := os.Chmod(src, 0o755); err != nil {
			return err
		}
		return os.Rename(src, dest)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dest, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.Rename(p, target)
	})
}

func extract(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	root, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			// Drain what follows the archive's end so the writer never blocks.
			_, _ = io.Copy(io.Discard, r)
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("kiln: unexpected archive entry %q (type %c)", h.Name, h.Typeflag)
		}
		target := filepath.Join(root, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(target, root+string(filepath.Separator)) {
			return fmt.Errorf("kiln: archive entry %q leaves the destination", h.Name)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		out, err := os.OpenFile(target, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, fs.FileMode(h.Mode)&0o777)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}

// Delete deletes a version and returns it with status DELETED.
func (c *Client) Delete(ctx context.Context, name string, version int64) (*kilnv1.ModelVersion, error) {
	v, err := c.rpc.DeleteModelVersion(ctx, &kilnv1.DeleteModelVersionRequest{Model: name, Version: version})
	return v, fromRPC(err)
}
