// The client: Dial, Upload (a directory streamed as a tar through a pipe), Get, ListModels / ListVersions
// iterators over pages, Watch, Download and Delete.
package kiln

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"sort"
	"strings"

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
// defaults, so they can replace the credentials.
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
	// Progress is called after each chunk with the bytes sent and the total: the file's size, or for a directory
	// the sum of its files' sizes (the tar adds headers on top).
	Progress func(sent, total int64)
}

// Upload sends a directory (as a tar built on the fly), a .tar/.tar.gz archive, or a single file as a new version of
// model name, and returns the version. Memory use does not grow with the model's size.
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
	lower := strings.ToLower(path)
	switch {
	case info.IsDir():
		files, err := walk(path)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			total += f.size
		}
		header.Format = kilnv1.ArchiveFormat_ARCHIVE_FORMAT_TAR
		body = tarDirectory(files)
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
	var sent int64
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
			if opts.Progress != nil {
				opts.Progress(sent, total)
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

// walk lists a directory's regular files, sorted by relative path.
func walk(root string) ([]localFile, error) {
	var files []localFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, localFile{rel: filepath.ToSlash(rel), abs: p, size: info.Size(), mode: info.Mode()})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files, err
}

// tarDirectory streams a tar of the files through a pipe: the writer goroutine blocks until the upload reads, so
// memory stays at one chunk.
func tarDirectory(files []localFile) io.ReadCloser {
	r, w := io.Pipe()
	go func() {
		tw := tar.NewWriter(w)
		for _, f := range files {
			if err := addFile(tw, f); err != nil {
				w.CloseWithError(err)
				return
			}
		}
		w.CloseWithError(tw.Close())
	}()
	return r
}

func addFile(tw *tar.Writer, f localFile) error {
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
	_, err = io.CopyN(tw, in, f.size)
	return err
}

// Get returns one version; version 0 is the newest that is not deleted.
func (c *Client) Get(ctx context.Context, name string, version int64) (*kilnv1.ModelVersion, error) {
	v, err := c.rpc.GetModelVersion(ctx, &kilnv1.GetModelVersionRequest{Model: name, Version: version})
	return v, fromRPC(err)
}

// ListModels iterates every model whose name starts with prefix, sorted by name, fetching pages as it goes. An error
// ends the iteration.
func (c *Client) ListModels(ctx context.Context, prefix string) iter.Seq2[*kilnv1.Model, error] {
	return func(yield func(*kilnv1.Model, error) bool) {
		token := ""
		for {
			page, err := c.rpc.ListModels(ctx, &kilnv1.ListModelsRequest{NamePrefix: prefix, PageToken: token})
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

// DownloadTo extracts a version's files into dir (created if missing), streaming: nothing is held in memory.
func (c *Client) DownloadTo(ctx context.Context, name string, version int64, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- extract(r, dir) }()
	err := c.Download(ctx, name, version, w)
	w.CloseWithError(err)
	if xerr := <-done; err == nil {
		err = xerr
	}
	r.Close()
	return err
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
