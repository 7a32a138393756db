package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const octetStream = "application/octet-stream"

func runPushBlob(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pushblob", flag.ContinueOnError)
	c := addCommon(fs)
	size := sizeFlag(512 << 20)
	chunk := sizeFlag(16 << 20)
	fs.Var(&size, "size", "blob size")
	fs.Var(&chunk, "chunk", "PATCH size in chunked mode")
	mode := fs.String("mode", "monolithic", "monolithic (POST, PUT with body) or chunked (POST, PATCHes, PUT)")
	repo := fs.String("repo", "regload/blob", "repository")
	seed := fs.Uint64("seed", 1, "seed of the pseudo-random content (same seed and size, same blob)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkRepo(*repo); err != nil {
		return err
	}
	if *mode != "monolithic" && *mode != "chunked" {
		return fmt.Errorf("bad -mode %q: monolithic or chunked", *mode)
	}
	if *mode == "chunked" && chunk <= 0 {
		return errors.New("-chunk must be positive")
	}
	t, err := newTarget(c.url, 1)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	n := int64(size)
	fmt.Fprintf(out, "pushblob: %s of seed %d to %s/v2/%s, %s", formatSize(n), *seed, t.base, *repo, *mode)
	if *mode == "chunked" {
		fmt.Fprintf(out, ", chunks of %s", formatSize(int64(chunk)))
	}
	fmt.Fprintln(out)
	h := hashPayload(*seed, n)
	shaRate := mibps(n, h.hashTime)
	fmt.Fprintf(out, "  digest        %s\n", h.digest)
	fmt.Fprintf(out, "  sha256        %8.1f MiB/s on one core (%v for the same bytes; generating them: %.0f MiB/s)\n",
		shaRate, h.hashTime.Round(time.Millisecond), mibps(n, h.genTime))

	// The payload is generated before the clock starts (streamed only if too large).
	var body io.Reader
	if b := payloadBytes(*seed, n); b != nil {
		body = bytes.NewReader(b)
	} else {
		body = payload(*seed, n)
	}
	start := time.Now()
	var serverDigest string
	if *mode == "monolithic" {
		serverDigest, err = t.pushMonolithic(ctx, *repo, h.digest, n, body)
	} else {
		serverDigest, err = t.pushChunked(ctx, *repo, h.digest, n, int64(chunk), body)
	}
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("push after %v: %w", elapsed.Round(time.Millisecond), err)
	}
	if serverDigest != "" && serverDigest != h.digest {
		return fmt.Errorf("server answered Docker-Content-Digest %s, pushed %s", serverDigest, h.digest)
	}
	rate := mibps(n, elapsed)
	fmt.Fprintf(out, "  push          %8.1f MiB/s (%v for POST to 201)\n", rate, elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "  push/sha256   %8.2f\n", rate/shaRate)
	fmt.Fprintf(out, "result: mode=pushblob upload=%s bytes=%d seconds=%.3f mib_s=%.1f sha256_mib_s=%.1f ratio=%.3f digest=%s\n",
		*mode, n, elapsed.Seconds(), rate, shaRate, rate/shaRate, h.digest)
	return nil
}

// startUpload POSTs to the repository's uploads endpoint and returns the session URL.
func (t *target) startUpload(ctx context.Context, repo string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint("/v2/"+repo+"/blobs/uploads/"), nil)
	if err != nil {
		return nil, err
	}
	resp, err := t.do(req, http.StatusAccepted)
	if err != nil {
		return nil, err
	}
	drain(resp)
	return t.resolve(resp.Header.Get("Location"))
}

// withDigest adds ?digest= to an upload session URL, keeping the query it has.
func withDigest(u *url.URL, digest string) string {
	v := *u
	q := v.Query()
	q.Set("digest", digest)
	v.RawQuery = q.Encode()
	return v.String()
}

// pushMonolithic uploads body (size bytes) with a POST and a single PUT and returns
// the Docker-Content-Digest the server answered, if any.
func (t *target) pushMonolithic(ctx context.Context, repo, digest string, size int64, body io.Reader) (string, error) {
	loc, err := t.startUpload(ctx, repo)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, withDigest(loc, digest), body)
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", octetStream)
	resp, err := t.do(req, http.StatusCreated)
	if err != nil {
		return "", err
	}
	drain(resp)
	return resp.Header.Get("Docker-Content-Digest"), nil
}

// pushChunked uploads body (size bytes) with a POST, one PATCH per chunk carrying its
// Content-Range, and a closing PUT without a body.
func (t *target) pushChunked(ctx context.Context, repo, digest string, size, chunk int64, body io.Reader) (string, error) {
	loc, err := t.startUpload(ctx, repo)
	if err != nil {
		return "", err
	}
	for off := int64(0); off < size; {
		n := chunk
		if size-off < n {
			n = size - off
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPatch, loc.String(), io.LimitReader(body, n))
		if err != nil {
			return "", err
		}
		req.ContentLength = n
		req.Header.Set("Content-Type", octetStream)
		req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", off, off+n-1))
		resp, err := t.do(req, http.StatusAccepted, http.StatusNoContent)
		if err != nil {
			return "", fmt.Errorf("chunk at %d: %w", off, err)
		}
		drain(resp)
		if next := resp.Header.Get("Location"); next != "" {
			if loc, err = t.resolve(next); err != nil {
				return "", err
			}
		}
		off += n
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, withDigest(loc, digest), http.NoBody)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", octetStream)
	resp, err := t.do(req, http.StatusCreated)
	if err != nil {
		return "", err
	}
	drain(resp)
	return resp.Header.Get("Docker-Content-Digest"), nil
}

// pushBytes uploads a small blob monolithically and returns its digest.
func (t *target) pushBytes(ctx context.Context, repo string, b []byte) (string, error) {
	d := digestOf(b)
	got, err := t.pushMonolithic(ctx, repo, d, int64(len(b)), bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	if got != "" && got != d {
		return "", fmt.Errorf("server answered digest %s for blob %s", got, d)
	}
	return d, nil
}

func runPullBlob(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pullblob", flag.ContinueOnError)
	c := addCommon(fs)
	size := sizeFlag(512 << 20)
	fs.Var(&size, "size", "size of the blob pushblob pushed (used when -digest is empty)")
	seed := fs.Uint64("seed", 1, "seed pushblob used (used when -digest is empty)")
	repo := fs.String("repo", "regload/blob", "repository")
	digest := fs.String("digest", "", "blob digest; empty: the one pushblob pushes for -size and -seed")
	verify := fs.Bool("verify", false, "hash the received bytes and compare (costs client CPU)")
	count := fs.Int("n", 1, "GETs to make, one after the other")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkRepo(*repo); err != nil {
		return err
	}
	if *count < 1 || *count > 1000 {
		return errors.New("-n must be within 1..1000")
	}
	t, err := newTarget(c.url, 1)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if *digest == "" {
		*digest = hashPayload(*seed, int64(size)).digest
	}
	fmt.Fprintf(out, "pullblob: %s/v2/%s/blobs/%s, %d GET(s)\n", t.base, *repo, *digest, *count)
	var total int64
	var elapsed, bestTTFB time.Duration
	best := 0.0
	for i := 0; i < *count; i++ {
		n, ttfb, d, err := t.pullOnce(ctx, *repo, *digest, *verify)
		if err != nil {
			return err
		}
		total += n
		elapsed += d
		if r := mibps(n, d); r > best {
			best, bestTTFB = r, ttfb
		}
		fmt.Fprintf(out, "  GET %d        %8.1f MiB/s (%d bytes in %v, first byte after %s)\n",
			i+1, mibps(n, d), n, d.Round(time.Millisecond), ms(ttfb))
	}
	rate := mibps(total, elapsed)
	fmt.Fprintf(out, "result: mode=pullblob bytes=%d gets=%d seconds=%.3f mib_s=%.1f best_mib_s=%.1f ttfb=%s verified=%v\n",
		total, *count, elapsed.Seconds(), rate, best, ms(bestTTFB), *verify)
	return nil
}

// pullOnce GETs a blob and returns its length, the time to the first byte and the
// total time. It checks Content-Length and, when asked, the digest.
func (t *target) pullOnce(ctx context.Context, repo, digest string, verify bool) (int64, time.Duration, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.endpoint("/v2/"+repo+"/blobs/"+digest), nil)
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	resp, err := t.do(req, http.StatusOK)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	buf := make([]byte, 1<<20)
	first, err := io.ReadAtLeast(resp.Body, buf, 1)
	ttfb := time.Since(start)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, 0, 0, err
	}
	h := sha256.New()
	var w io.Writer = io.Discard
	if verify {
		w = h
		h.Write(buf[:first])
	}
	rest, err := io.CopyBuffer(w, resp.Body, buf)
	elapsed := time.Since(start)
	if err != nil {
		return 0, 0, 0, err
	}
	n := int64(first) + rest
	if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.FormatInt(n, 10) {
		return 0, 0, 0, fmt.Errorf("got %d bytes, Content-Length said %s", n, cl)
	}
	if verify {
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
			return 0, 0, 0, fmt.Errorf("received bytes digest to %s, want %s", got, digest)
		}
	}
	return n, ttfb, elapsed, nil
}
