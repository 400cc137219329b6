// Command testimage builds skiff's local test image, an OCI image layout
// directory, from the host's static busybox, without any network access.
//
// The output is reproducible: fixed timestamps, sorted tar entries, uid/gid 0
// and a fixed gzip header, so the same busybox binary always gives the same
// digests. That lets tests assert on image IDs and lets `make` skip rebuilds.
//
// Usage:
//
//	go run ./test/testimage -o test/testimage/out/busybox
//	go run ./test/testimage -o out/big -big-mb 100      # busybox + 5 random-data layers
//	go run ./test/testimage -o out/many -variants 50    # + 50 distinct small images
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	var opts options
	flag.StringVar(&opts.outDir, "o", "", "output OCI layout directory (required; replaced if it exists)")
	flag.StringVar(&opts.tag, "tag", "latest", "tag (org.opencontainers.image.ref.name) of the main image")
	flag.IntVar(&opts.bigMB, "big-mb", 0, "if > 0, add 5 layers of seeded incompressible data totaling this many MiB")
	flag.IntVar(&opts.variants, "variants", 0, "also write this many distinct small images, tagged variant-1 ... variant-N")
	flag.StringVar(&opts.busybox, "busybox", "", "path of a static busybox binary (default: /bin/busybox or $PATH)")
	flag.Parse()
	if opts.outDir == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: testimage -o DIR [-tag NAME] [-big-mb N] [-variants N] [-busybox PATH]")
		os.Exit(2)
	}
	res, err := build(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testimage:", err)
		os.Exit(1)
	}
	for _, img := range res.images {
		fmt.Printf("%s:%s manifest %s config %s\n", opts.outDir, img.tag, img.manifest.Digest, img.config.Digest)
	}
}
