// kiln-example: uploads a model with the Go SDK, follows its build, lists its versions and downloads it back.
//
//	go run ./cmd/kiln-example -addr 127.0.0.1:50051 -name mnist -out /tmp/mnist ../../test/fixtures/third-party/hydrosphere/onnx_mnist
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"

	"google.golang.org/grpc"

	kiln "github.com/kiln-dev/kiln/sdk/go"
)

func main() {
	addr := flag.String("addr", envOr("KILN_ADDRESS", "127.0.0.1:50051"), "registry address (host:port)")
	name := flag.String("name", "example", "model name")
	out := flag.String("out", "", "download the version into this directory")
	ca := flag.String("ca", os.Getenv("KILN_CA"), "PEM CA file the registry's certificate is checked against (TLS)")
	cert := flag.String("cert", os.Getenv("KILN_CERT"), "PEM client certificate, for a registry that requires one (with -key)")
	key := flag.String("key", os.Getenv("KILN_KEY"), "PEM private key of -cert")
	token := flag.String("token", os.Getenv("KILN_TOKEN"), "Kiln API token (or OIDC token) sent as \"authorization: Bearer\"")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: kiln-example [flags] PATH (a model directory, archive or file)\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, *name, flag.Arg(0), *out, *ca, *cert, *key, *token); err != nil {
		var kerr *kiln.Error
		if errors.As(err, &kerr) {
			log.Fatalf("kiln said %s: %s", kerr.Code, kerr.Message)
		}
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr, name, path, out, ca, cert, key, token string) error {
	var opts []grpc.DialOption
	if token != "" {
		opts = append(opts, kiln.WithToken(token))
	}
	if ca != "" || cert != "" {
		withTLS, err := kiln.WithTLS(ca, cert, key)
		if err != nil {
			return err
		}
		opts = append(opts, withTLS)
	}
	c, err := kiln.Dial(addr, opts...)
	if err != nil {
		return err
	}
	defer c.Close()

	v, err := c.Upload(ctx, path, name, &kiln.UploadOptions{
		Progress: func(sent, total int64) { fmt.Fprintf(os.Stderr, "\ruploaded %d / %d bytes", sent, total) },
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	fmt.Printf("%s version %d: %d files, %d bytes, contract from %q\n", v.Model, v.Version, len(v.Files), v.TotalSize, v.Contract.GetSource())
	for _, s := range v.Contract.GetSignatures() {
		fmt.Printf("  signature %s: %d inputs, %d outputs\n", s.Name, len(s.Inputs), len(s.Outputs))
	}

	for ev, err := range c.Watch(ctx, name, v.Version) {
		if err != nil {
			return err
		}
		if ev.Log != nil {
			fmt.Printf("  build | %s\n", ev.Log.Line)
		} else {
			fmt.Printf("  status %s\n", strings.TrimSpace(ev.Version.Status.String()+" "+ev.Version.ImageReference))
		}
	}

	for mv, err := range c.ListVersions(ctx, name, nil) {
		if err != nil {
			return err
		}
		fmt.Printf("  %s:%d %s\n", mv.Model, mv.Version, mv.Status)
	}

	if out != "" {
		if err := c.DownloadTo(ctx, name, v.Version, out); err != nil {
			return err
		}
		fmt.Printf("downloaded to %s\n", out)
	}
	return nil
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
