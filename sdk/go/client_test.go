// The Go SDK against a live Kiln (KILN_ADDRESS, started by test/sdk.test.ts): real model files from the repository's
// third-party fixtures, their versions and contracts, byte-identical downloads, paging, watch, delete and errors by code.
package kiln_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	kiln "github.com/kiln-dev/kiln/sdk/go"
	kilnv1 "github.com/kiln-dev/kiln/sdk/go/gen/kiln/v1"
)

func client(t *testing.T) *kiln.Client {
	t.Helper()
	addr := os.Getenv("KILN_ADDRESS")
	if addr == "" {
		// Not a skip: these tests exist to run against real services.
		t.Fatal("KILN_ADDRESS is not set: run through test/sdk.test.ts, or point it at a running Kiln registry")
	}
	c, err := kiln.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func fixtures(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KILN_FIXTURES_DIR")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "test", "fixtures", "third-party")
	}
	if _, err := os.Stat(filepath.Join(dir, "hydrosphere", "onnx_mnist", "mnist.onnx")); err != nil {
		t.Fatalf("the model fixtures are not in %s (set KILN_FIXTURES_DIR): %v", dir, err)
	}
	return dir
}

func modelName(t *testing.T, what string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("go-%s-%s", what, hex.EncodeToString(b))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// tree maps relative path -> contents for every regular file under root.
func tree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestUploadingAnONNXFileGivesVersion1WithItsContractAndDownloadsByteIdentical(t *testing.T) {
	c, ctx := client(t), ctx(t)
	onnx := filepath.Join(fixtures(t), "hydrosphere", "onnx_mnist", "mnist.onnx")
	want, _ := os.ReadFile(onnx)
	name := modelName(t, "onnx")
	var lastSent, lastTotal int64
	v, err := c.Upload(ctx, onnx, name, &kiln.UploadOptions{
		Labels: map[string]string{"team": "vision"}, Metadata: map[string]string{"origin": "go-test"},
		Progress: func(sent, total int64) { lastSent, lastTotal = sent, total },
	})
	if err != nil {
		t.Fatal(err)
	}
	if v.Model != name || v.Version != 1 {
		t.Fatalf("got %s:%d, want %s:1", v.Model, v.Version, name)
	}
	if lastSent != int64(len(want)) || lastTotal != int64(len(want)) {
		t.Errorf("progress ended at %d/%d, want %d/%d", lastSent, lastTotal, len(want), len(want))
	}
	if len(v.Files) != 1 || v.Files[0].Path != "mnist.onnx" || v.Files[0].Sha256 != sha(want) {
		t.Fatalf("files: %v", v.Files)
	}
	if v.Labels["team"] != "vision" || v.Metadata["origin"] != "go-test" || v.Metadata["onnx.producer_name"] != "CNTK" {
		t.Errorf("labels %v metadata %v", v.Labels, v.Metadata)
	}
	if v.Contract.GetSource() != "onnx" || len(v.Contract.Signatures) != 1 {
		t.Fatalf("contract: %v", v.Contract)
	}
	in := v.Contract.Signatures[0].Inputs[0]
	if in.Name != "Input73" || in.GetTensor().Dtype != kilnv1.DataType_DATA_TYPE_FLOAT {
		t.Errorf("input: %v", in)
	}
	var dims []int64
	for _, d := range in.GetTensor().GetShape().GetDims() {
		dims = append(dims, d.GetSize())
	}
	if fmt.Sprint(dims) != "[1 1 28 28]" {
		t.Errorf("input dims %v", dims)
	}

	got, err := c.Get(ctx, name, 0)
	if err != nil || got.Version != 1 || got.Contract.Signatures[0].Name != v.Contract.Signatures[0].Name {
		t.Fatalf("Get: %v %v", got, err)
	}
	dir := t.TempDir()
	if err := c.DownloadTo(ctx, name, 1, dir); err != nil {
		t.Fatal(err)
	}
	if back, _ := os.ReadFile(filepath.Join(dir, "mnist.onnx")); !bytes.Equal(back, want) {
		t.Fatal("downloaded mnist.onnx differs")
	}
}

func TestUploadingASavedModelDirectoryAndDownloadingItGivesEveryFileByteIdentical(t *testing.T) {
	c, ctx := client(t), ctx(t)
	src := filepath.Join(fixtures(t), "tf-serving", "saved_model_half_plus_two_cpu", "00000123")
	name := modelName(t, "savedmodel")
	v, err := c.Upload(ctx, src, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := tree(t, src)
	if v.Version != 1 || len(v.Files) != len(want) {
		t.Fatalf("version %d with %d files, want 1 with %d", v.Version, len(v.Files), len(want))
	}
	for _, f := range v.Files {
		if sha(want[f.Path]) != f.Sha256 {
			t.Errorf("%s: sha256 %s", f.Path, f.Sha256)
		}
	}
	if v.Contract.GetSource() != "savedmodel" {
		t.Fatalf("contract source %q", v.Contract.GetSource())
	}
	var serving *kilnv1.Signature
	for _, s := range v.Contract.Signatures {
		if s.Name == "serving_default" {
			serving = s
		}
	}
	if serving == nil || serving.Method != "tensorflow/serving/predict" || serving.Inputs[0].Name != "x" || serving.Outputs[0].Name != "y" {
		t.Fatalf("serving_default: %v", serving)
	}
	dir := t.TempDir()
	if err := c.DownloadTo(ctx, name, 1, dir); err != nil {
		t.Fatal(err)
	}
	back := tree(t, dir)
	if len(back) != len(want) {
		t.Fatalf("downloaded %d files, want %d", len(back), len(want))
	}
	for p, b := range want {
		if !bytes.Equal(back[p], b) {
			t.Errorf("%s differs after download", p)
		}
	}
	// One file as a raw tar.
	var buf bytes.Buffer
	if err := c.Download(ctx, name, 1, &buf, "saved_model.pb"); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	h, err := tr.Next()
	if err != nil || h.Name != "saved_model.pb" {
		t.Fatalf("tar entry %v %v", h, err)
	}
	if b, _ := io.ReadAll(tr); !bytes.Equal(b, want["saved_model.pb"]) {
		t.Fatal("saved_model.pb differs in the tar")
	}
}

func TestALargeDirectoryStreamsWithProgressAndKeepsExecutableBits(t *testing.T) {
	c, ctx := client(t), ctx(t)
	src := t.TempDir()
	big := make([]byte, 20<<20)
	rand.Read(big)
	os.MkdirAll(filepath.Join(src, "weights", "shard"), 0o755)
	os.WriteFile(filepath.Join(src, "weights", "shard", "part-0.bin"), big, 0o644)
	os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755)
	name := modelName(t, "large")
	var seen [][2]int64
	v, err := c.Upload(ctx, src, name, &kiln.UploadOptions{Progress: func(sent, total int64) { seen = append(seen, [2]int64{sent, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 20 {
		t.Errorf("progress called %d times for a 20 MiB upload", len(seen))
	}
	// Progress counts file content, not tar headers: it rises and ends exactly at the files' total.
	total := int64(len(big) + len("#!/bin/sh\necho hi\n"))
	for i, s := range seen {
		if s[1] != total || (i > 0 && s[0] <= seen[i-1][0]) {
			t.Fatalf("progress call %d: %v after %v (total %d)", i, s, seen[max(i-1, 0)], total)
		}
	}
	if last := seen[len(seen)-1]; last[0] != total {
		t.Errorf("progress ended at %v, want %d/%d", last, total, total)
	}
	files := map[string]*kilnv1.ModelFile{}
	for _, f := range v.Files {
		files[f.Path] = f
	}
	if f := files["weights/shard/part-0.bin"]; f == nil || f.Size != int64(len(big)) || f.Sha256 != sha(big) || f.Executable {
		t.Errorf("part-0.bin: %v", f)
	}
	if f := files["run.sh"]; f == nil || !f.Executable {
		t.Errorf("run.sh: %v", f)
	}
	dir := t.TempDir()
	if err := c.DownloadTo(ctx, name, v.Version, dir); err != nil {
		t.Fatal(err)
	}
	if back, _ := os.ReadFile(filepath.Join(dir, "weights", "shard", "part-0.bin")); !bytes.Equal(back, big) {
		t.Fatal("large file differs after download")
	}
}

func TestListModelsAndListVersionsIterateEveryPage(t *testing.T) {
	c, ctx := client(t), ctx(t)
	onnx := filepath.Join(fixtures(t), "hydrosphere", "onnx_mnist", "mnist.onnx")
	prefix := modelName(t, "list")
	for i := 0; i < 3; i++ {
		if _, err := c.Upload(ctx, onnx, fmt.Sprintf("%s-%d", prefix, i), nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		if _, err := c.Upload(ctx, onnx, prefix+"-0", &kiln.UploadOptions{Labels: map[string]string{"stage": "dev"}}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for m, err := range c.ListModels(ctx, prefix) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m.Name)
	}
	if fmt.Sprint(names) != fmt.Sprintf("[%s-0 %s-1 %s-2]", prefix, prefix, prefix) {
		t.Fatalf("models %v", names)
	}
	namespaced := prefix + "/model"
	if _, err := c.Upload(ctx, onnx, namespaced, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ namespace, name string }{{prefix, namespaced}, {"default", prefix + "-0"}} {
		var got []string
		for m, err := range c.ListModels(ctx, "", kiln.InNamespace(want.namespace)) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.Name)
		}
		if !slices.Contains(got, want.name) || (want.namespace == prefix && len(got) != 1) {
			t.Fatalf("namespace %s: models %v, want %s among them", want.namespace, got, want.name)
		}
	}
	collect := func(opts *kiln.ListVersionsOptions) []int64 {
		var out []int64
		for v, err := range c.ListVersions(ctx, prefix+"-0", opts) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v.Version)
		}
		return out
	}
	if got := collect(&kiln.ListVersionsOptions{PageSize: 2}); fmt.Sprint(got) != "[5 4 3 2 1]" {
		t.Errorf("versions %v", got)
	}
	if got := collect(&kiln.ListVersionsOptions{PageSize: 3, Labels: map[string]string{"stage": "dev"}}); fmt.Sprint(got) != "[5 4 3 2]" {
		t.Errorf("versions with label %v", got)
	}
	// Breaking out of the loop stops paging.
	for v := range c.ListVersions(ctx, prefix+"-0", &kiln.ListVersionsOptions{PageSize: 1}) {
		if v.Version != 5 {
			t.Errorf("first version %d", v.Version)
		}
		break
	}
}

func TestWatchStreamsStatusAndBuildLogUntilReleased(t *testing.T) {
	c, ctx := client(t), ctx(t)
	name := modelName(t, "watch")
	v, err := c.Upload(ctx, filepath.Join(fixtures(t), "hydrosphere", "onnx_mnist", "mnist.onnx"), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []kilnv1.ModelVersionStatus
	var lines []string
	lastLine := int64(0)
	for ev, err := range c.Watch(ctx, name, v.Version) {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.Version != nil:
			statuses = append(statuses, ev.Version.Status)
		case ev.Log != nil:
			if ev.Log.Number <= lastLine {
				t.Errorf("log line %d after %d", ev.Log.Number, lastLine)
			}
			lastLine = ev.Log.Number
			lines = append(lines, ev.Log.Line)
		}
	}
	if len(statuses) == 0 || statuses[len(statuses)-1] != kilnv1.ModelVersionStatus_MODEL_VERSION_STATUS_RELEASED {
		t.Fatalf("watch ended at %v, want RELEASED; build log:\n%s", statuses, strings.Join(lines, "\n"))
	}
	if len(lines) == 0 {
		t.Fatal("no build log line was streamed")
	}
	if got, err := c.Get(ctx, name, v.Version); err != nil || !strings.HasPrefix(got.ImageDigest, "sha256:") {
		t.Fatalf("released version: %v %v", got, err)
	}
}

func TestALocalErrorDuringAnUploadIsReturnedAsItselfAndNothingIsKept(t *testing.T) {
	c, ctx := client(t), ctx(t)
	src := t.TempDir()
	big := make([]byte, 4<<20)
	rand.Read(big)
	os.WriteFile(filepath.Join(src, "a.bin"), big, 0o644)
	os.WriteFile(filepath.Join(src, "z.bin"), []byte("zzz"), 0o644)
	name := modelName(t, "vanish")
	// z.bin disappears after the listing, while a.bin is on its way.
	_, err := c.Upload(ctx, src, name, &kiln.UploadOptions{Progress: func(sent, total int64) { os.Remove(filepath.Join(src, "z.bin")) }})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "z.bin") {
		t.Fatalf("got %v, want the missing z.bin", err)
	}
	// One that grows or shrinks after the listing: sending the listed size would upload a torn file.
	for _, change := range []struct {
		size int
		want string
	}{{2000, "grew"}, {1, "shrank"}} {
		os.WriteFile(filepath.Join(src, "z.bin"), []byte(strings.Repeat("z", 1000)), 0o644)
		_, err = c.Upload(ctx, src, name, &kiln.UploadOptions{Progress: func(sent, total int64) {
			os.WriteFile(filepath.Join(src, "z.bin"), []byte(strings.Repeat("z", change.size)), 0o644)
		}})
		if err == nil || !strings.Contains(err.Error(), "z.bin "+change.want+" while being uploaded") {
			t.Errorf("got %v, want z.bin %s", err, change.want)
		}
	}
	for _, err := range c.ListVersions(ctx, name, nil) {
		if !errors.Is(err, kiln.ErrNotFound) {
			t.Errorf("the failed upload left a version: %v", err)
		}
	}
}

func TestDirectoryUploadsFollowSymlinksToFilesAndFoldersAndSkipBrokenOnes(t *testing.T) {
	c, ctx := client(t), ctx(t)
	base := t.TempDir()
	outside, src := filepath.Join(base, "blobs"), filepath.Join(base, "snapshot")
	os.MkdirAll(filepath.Join(outside, "sub"), 0o755)
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(outside, "weights"), []byte("weights through a link"), 0o644)
	os.WriteFile(filepath.Join(outside, "sub", "vocab.txt"), []byte("a\nb\n"), 0o644)
	os.WriteFile(filepath.Join(src, "config.json"), []byte("{}"), 0o644)
	os.Symlink(filepath.Join(outside, "weights"), filepath.Join(src, "model.bin"))
	os.Symlink(filepath.Join(outside, "sub"), filepath.Join(src, "tokenizer"))
	os.Symlink(filepath.Join(src, "absent"), filepath.Join(src, "broken"))
	os.Symlink(src, filepath.Join(src, "loop"))
	var skipped []string
	v, err := c.Upload(ctx, src, modelName(t, "links"), &kiln.UploadOptions{OnSkip: func(p, why string) { skipped = append(skipped, filepath.Base(p)+": "+why) }})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, f := range v.Files {
		got[f.Path] = f.Size
	}
	if fmt.Sprint(got) != "map[config.json:2 model.bin:22 tokenizer/vocab.txt:4]" {
		t.Errorf("files %v", got)
	}
	if len(skipped) != 2 || !strings.Contains(skipped[0], "broken symlink") || !strings.Contains(skipped[1], "would loop") {
		t.Errorf("skipped %q", skipped)
	}
	dir := t.TempDir()
	if err := c.DownloadTo(ctx, v.Model, v.Version, dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "model.bin")); string(b) != "weights through a link" {
		t.Errorf("model.bin downloaded as %q", b)
	}
}

func TestAFailedDownloadLeavesNoPartialFiles(t *testing.T) {
	c, ctx := client(t), ctx(t)
	name := modelName(t, "nodl")
	if _, err := c.Upload(ctx, filepath.Join(fixtures(t), "hydrosphere", "onnx_mnist", "mnist.onnx"), name, nil); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	if err := c.DownloadTo(ctx, name, 7, filepath.Join(base, "out")); !errors.Is(err, kiln.ErrNotFound) {
		t.Fatalf("download of an absent version: %v", err)
	}
	if left, _ := os.ReadDir(base); len(left) != 0 {
		t.Fatalf("a failed download left %v", left)
	}
	// Into a folder that has other files: they stay, the version's files join them.
	keep := filepath.Join(base, "keep")
	os.MkdirAll(keep, 0o755)
	os.WriteFile(filepath.Join(keep, "mine.txt"), []byte("mine"), 0o644)
	if err := c.DownloadTo(ctx, name, 1, keep); err != nil {
		t.Fatal(err)
	}
	if got := tree(t, base); len(got) != 2 || got["keep/mine.txt"] == nil || got["keep/mnist.onnx"] == nil {
		t.Errorf("after download: %v", len(got))
	}
}

func TestDeleteMarksTheVersionDeletedAndErrorsCarryTheirCode(t *testing.T) {
	c, ctx := client(t), ctx(t)
	name := modelName(t, "delete")
	onnx := filepath.Join(fixtures(t), "hydrosphere", "onnx_mnist", "mnist.onnx")
	for i := 0; i < 2; i++ {
		if _, err := c.Upload(ctx, onnx, name, nil); err != nil {
			t.Fatal(err)
		}
	}
	d, err := c.Delete(ctx, name, 2)
	if err != nil || d.Status != kilnv1.ModelVersionStatus_MODEL_VERSION_STATUS_DELETED || d.DeleteTime == nil {
		t.Fatalf("Delete: %v %v", d, err)
	}
	if _, err := c.Get(ctx, name, 2); !errors.Is(err, kiln.ErrNotFound) {
		t.Errorf("Get of a deleted version: %v", err)
	}
	if v, err := c.Get(ctx, name, 0); err != nil || v.Version != 1 {
		t.Errorf("newest after delete: %v %v", v, err)
	}
	if _, err := c.Delete(ctx, name, 2); !errors.Is(err, kiln.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	_, err = c.Get(ctx, "Not A Valid Name", 0)
	var kerr *kiln.Error
	if !errors.Is(err, kiln.ErrInvalidArgument) || !errors.As(err, &kerr) || kerr.Message == "" {
		t.Errorf("invalid name: %v", err)
	}
	if _, err := c.Upload(ctx, onnx, "UPPER", nil); !errors.Is(err, kiln.ErrInvalidArgument) {
		t.Errorf("upload with an invalid name: %v", err)
	}
	for _, err := range c.ListVersions(ctx, name+"-absent", nil) {
		if !errors.Is(err, kiln.ErrNotFound) {
			t.Errorf("ListVersions of an absent model: %v", err)
		}
	}
	if err := c.Download(ctx, name+"-absent", 1, io.Discard); !errors.Is(err, kiln.ErrNotFound) {
		t.Errorf("Download of an absent model: %v", err)
	}
}

func TestAServerThatIsNotThereGivesErrUnavailable(t *testing.T) {
	c, err := kiln.Dial("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Get(cctx, "anything", 0); !errors.Is(err, kiln.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
}

func TestAnAliasIsSetReadMovedAndDeletedAndGuardsItsVersion(t *testing.T) {
	c, ctx := client(t), ctx(t)
	name := modelName(t, "alias")
	onnx := filepath.Join(fixtures(t), "hydrosphere", "onnx_mnist", "mnist.onnx")
	for i := int64(1); i <= 2; i++ {
		if _, err := c.Upload(ctx, onnx, name, nil); err != nil {
			t.Fatal(err)
		}
		var last *kilnv1.ModelVersion
		for ev, err := range c.Watch(ctx, name, i) {
			if err != nil {
				t.Fatal(err)
			}
			if ev.Version != nil {
				last = ev.Version
			}
		}
		if last.Status != kilnv1.ModelVersionStatus_MODEL_VERSION_STATUS_RELEASED {
			t.Fatalf("version %d: %v", i, last.Status)
		}
	}
	a, err := c.SetAlias(ctx, name, "production", 1, &kiln.AliasOptions{Reason: "launch"})
	if err != nil || a.Version != 1 || a.Alias != "production" {
		t.Fatalf("SetAlias: %v %v", a, err)
	}
	if v, err := c.GetAlias(ctx, name, "production"); err != nil || v.Version != 1 || len(v.Aliases) != 1 {
		t.Fatalf("GetAlias: %v %v", v, err)
	}
	if _, err := c.Delete(ctx, name, 1); !errors.Is(err, kiln.ErrFailedPrecondition) {
		t.Errorf("deleting the alias's version: %v", err)
	}
	if _, err := c.SetAlias(ctx, name, "production", 2, nil); err != nil {
		t.Fatal(err)
	}
	aliases, err := c.ListAliases(ctx, name)
	if err != nil || len(aliases) != 1 || aliases[0].Version != 2 {
		t.Fatalf("ListAliases: %v %v", aliases, err)
	}
	if d, err := c.DeleteAlias(ctx, name, "production", "retired"); err != nil || d.Version != 2 {
		t.Fatalf("DeleteAlias: %v %v", d, err)
	}
	if _, err := c.GetAlias(ctx, name, "production"); !errors.Is(err, kiln.ErrNotFound) {
		t.Errorf("GetAlias after the delete: %v", err)
	}
}
