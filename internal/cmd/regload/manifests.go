package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const (
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar"
)

// descriptor is the part of an OCI descriptor regload writes.
type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// imageManifest is a minimal OCI image manifest.
type imageManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Config        descriptor        `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// image is a config and a layer pushed to a repository, ready to be referenced.
type image struct {
	config, layer descriptor
}

// pushImageBlobs pushes a layer of layerSize pseudo-random bytes (from seed) and an
// image config naming it, and returns their descriptors.
func (t *target) pushImageBlobs(ctx context.Context, repo string, seed uint64, layerSize int64) (image, error) {
	layer := make([]byte, layerSize)
	newStream(seed).Read(layer)
	ld, err := t.pushBytes(ctx, repo, layer)
	if err != nil {
		return image{}, fmt.Errorf("layer blob: %w", err)
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{ld}},
	})
	if err != nil {
		return image{}, err
	}
	cd, err := t.pushBytes(ctx, repo, cfg)
	if err != nil {
		return image{}, fmt.Errorf("config blob: %w", err)
	}
	return image{
		config: descriptor{MediaType: mediaConfig, Digest: cd, Size: int64(len(cfg))},
		layer:  descriptor{MediaType: mediaLayer, Digest: ld, Size: layerSize},
	}, nil
}

// manifest returns the bytes of an image manifest for img with the given annotations.
func (img image) manifest(annotations map[string]string) []byte {
	b, err := json.Marshal(imageManifest{
		SchemaVersion: 2,
		MediaType:     mediaManifest,
		Config:        img.config,
		Layers:        []descriptor{img.layer},
		Annotations:   annotations,
	})
	if err != nil {
		panic(err) // the types above always marshal
	}
	return b
}

// putManifest PUTs b as reference (a tag or digest) and returns the request's latency
// and status.
func (t *target) putManifest(ctx context.Context, repo, reference string, b []byte) (time.Duration, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, t.endpoint("/v2/"+repo+"/manifests/"+reference), bytes.NewReader(b))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", mediaManifest)
	return t.timed(req, http.StatusCreated)
}

// timed sends req, drains the answer and returns its latency and status; a status
// other than want is returned as an error with the status set.
func (t *target) timed(req *http.Request, want int) (time.Duration, int, error) {
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		return time.Since(start), 0, err
	}
	if resp.StatusCode != want {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return time.Since(start), resp.StatusCode, &statusError{method: req.Method, url: req.URL.Path, code: resp.StatusCode, body: string(body)}
	}
	drain(resp)
	return time.Since(start), resp.StatusCode, nil
}

func runManifests(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("manifests", flag.ContinueOnError)
	c := addCommon(fs)
	repo := fs.String("repo", "regload/manifests", "repository")
	conc := fs.Int("c", 8, "concurrent clients")
	count := fs.Int("n", 2000, "manifests to PUT (and then DELETE)")
	dur := fs.Duration("d", 5*time.Minute, "upper bound on each phase")
	del := fs.Bool("delete", true, "DELETE the manifests after pushing them")
	client := fs.String("client", "raw", "raw (a minimal HTTP/1.1 client, cheap on the CPU) or std (net/http)")
	layerSize := sizeFlag(1 << 10)
	fs.Var(&layerSize, "layer", "size of the one layer every manifest references")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkRepo(*repo); err != nil {
		return err
	}
	if *conc < 1 || *conc > 1024 || *count < 1 || *count > 1_000_000 {
		return errors.New("-c must be within 1..1024 and -n within 1..1000000")
	}
	if *client != "raw" && *client != "std" {
		return fmt.Errorf("bad -client %q: raw or std", *client)
	}
	if int64(layerSize) > 64<<20 {
		return errors.New("-layer must be at most 64MiB")
	}
	t, err := newTarget(c.url, *conc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	img, err := t.pushImageBlobs(ctx, *repo, 7, int64(layerSize))
	if err != nil {
		return err
	}
	bodies := make([][]byte, *count)
	digests := make([]string, *count)
	for i := range bodies {
		bodies[i] = img.manifest(map[string]string{
			"org.regkit.regload.run": run,
			"org.regkit.regload.seq": strconv.Itoa(i),
		})
		digests[i] = digestOf(bodies[i])
	}
	if t.base.Scheme != "http" {
		*client = "std" // the raw client speaks plain HTTP only
	}
	fmt.Fprintf(out, "manifests: %d manifests of %d bytes to %s/v2/%s by tag, %d clients (run %s), %s client\n",
		*count, len(bodies[0]), t.base, *repo, *conc, run, *client)

	send, closeSend := t.manifestSender(*client, *repo, *conc)
	defer closeSend()

	pushed := make([]bool, *count)
	put := hammer(ctx, *conc, *dur, *count, func(ctx context.Context, i int) (time.Duration, int, error) {
		lat, code, err := send(ctx, http.MethodPut, fmt.Sprintf("load-%s-%d", run, i), bodies[i], http.StatusCreated)
		pushed[i] = err == nil
		return lat, code, err
	})
	report(out, "PUT", put)
	failed := put.failed()
	result := fmt.Sprintf("result: mode=manifests client=%s clients=%d put=%d put_errors=%d put_s=%.1f put_p50=%s put_p99=%s",
		*client, *conc, put.ok, put.failed(), perSecond(put.ok, put.elapsed), ms(put.latency().p50), ms(put.latency().p99))

	if *del {
		var todo []string
		for i, ok := range pushed {
			if ok {
				todo = append(todo, digests[i])
			}
		}
		rm := hammer(ctx, *conc, *dur, len(todo), func(ctx context.Context, i int) (time.Duration, int, error) {
			return send(ctx, http.MethodDelete, todo[i], nil, http.StatusAccepted)
		})
		report(out, "DELETE", rm)
		failed += rm.failed()
		result += fmt.Sprintf(" delete=%d delete_errors=%d delete_s=%.1f delete_p50=%s delete_p99=%s",
			rm.ok, rm.failed(), perSecond(rm.ok, rm.elapsed), ms(rm.latency().p50), ms(rm.latency().p99))
	}
	fmt.Fprintln(out, result)
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}

// report prints one phase of a count-bounded run.
func report(out io.Writer, name string, r *loadResult) {
	lat := r.latency()
	fmt.Fprintf(out, "  %-7s %6d ok, %d errors in %v: %.1f/s; latency p50 %s p90 %s p99 %s max %s\n",
		name, r.ok, r.failed(), r.elapsed.Round(time.Millisecond), perSecond(r.ok, r.elapsed),
		ms(lat.p50), ms(lat.p90), ms(lat.p99), ms(lat.max))
	if r.failed() > 0 {
		fmt.Fprintf(out, "  %-7s errors: %s (first: %v)\n", name, r.errorKinds(), r.firstErr)
	}
}

func runSeed(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	c := addCommon(fs)
	repo := fs.String("repo", "regload/seed", "repository")
	tag := fs.String("tag", "latest", "tag to push")
	size := sizeFlag(1 << 10)
	fs.Var(&size, "size", "layer size")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkRepo(*repo); err != nil {
		return err
	}
	if int64(size) > 1<<30 {
		return errors.New("-size must be at most 1GiB")
	}
	t, err := newTarget(c.url, 1)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	img, err := t.pushImageBlobs(ctx, *repo, 11, int64(size))
	if err != nil {
		return err
	}
	body := img.manifest(map[string]string{"org.regkit.regload.seed": *tag})
	if _, _, err := t.putManifest(ctx, *repo, *tag, body); err != nil {
		return err
	}
	// Read it back the way `get` will, so a broken seed shows here and not as errors
	// in a load run.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.endpoint("/v2/"+*repo+"/manifests/"+*tag), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", manifestAccept)
	resp, err := t.do(req, http.StatusOK)
	if err != nil {
		return fmt.Errorf("reading the seeded manifest back: %w", err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if !bytes.Equal(got, body) {
		return errors.New("the manifest read back differs from the one pushed")
	}
	manifestPath := "/v2/" + *repo + "/manifests/" + *tag
	blobPath := "/v2/" + *repo + "/blobs/" + img.layer.Digest
	fmt.Fprintf(out, "seed: %s:%s = %s (layer %s)\n", *repo, *tag, digestOf(body), formatSize(int64(size)))
	fmt.Fprintf(out, "  manifest  %s\n  blob      %s\n", manifestPath, blobPath)
	fmt.Fprintf(out, "result: mode=seed manifest_path=%s blob_path=%s manifest_digest=%s\n", manifestPath, blobPath, digestOf(body))
	return nil
}

// manifestSender returns the function that makes one manifest request (PUT
// with a body, DELETE without) and checks its status, through net/http
// ("std") or a pool of conc raw connections ("raw"), and the function that
// closes the pool.
func (t *target) manifestSender(client, repo string, conc int) (func(ctx context.Context, method, ref string, body []byte, want int) (time.Duration, int, error), func()) {
	if client == "std" {
		return func(ctx context.Context, method, ref string, body []byte, want int) (time.Duration, int, error) {
			if method == http.MethodPut {
				return t.putManifest(ctx, repo, ref, body)
			}
			req, err := http.NewRequestWithContext(ctx, method, t.endpoint("/v2/"+repo+"/manifests/"+ref), nil)
			if err != nil {
				return 0, 0, err
			}
			return t.timed(req, want)
		}, func() {}
	}
	auth := t.rawAuthorization(repo, "pull,push,delete")
	pool := make(chan *rawConn, conc)
	for range conc {
		pool <- &rawConn{addr: t.base.Host, timeout: time.Minute}
	}
	send := func(ctx context.Context, method, ref string, body []byte, want int) (time.Duration, int, error) {
		c := <-pool
		defer func() { pool <- c }()
		path := t.base.Path + "/v2/" + repo + "/manifests/" + ref
		req := rawRequest(t.base.Host, method, path, nil, "Authorization", auth)
		if body != nil {
			req = rawRequest(t.base.Host, method, path, body, "Content-Type", mediaManifest, "Authorization", auth)
		}
		lat, code, err := c.send(ctx, req)
		if err == nil && code != want {
			err = &statusError{method: method, url: path, code: code}
		}
		return lat, code, err
	}
	return send, func() {
		for range conc {
			(<-pool).close()
		}
	}
}

// rawAuthorization returns the Authorization header the raw client sends
// for repo: a Bearer token from the server's /oauth2/token when it has one
// (registryd challenges writes even when open), else nothing (peers that
// need no token).
func (t *target) rawAuthorization(repo, actions string) string {
	q := url.Values{"service": {t.base.Host}, "scope": {"repository:" + repo + ":" + actions}}
	req, err := http.NewRequest(http.MethodGet, t.endpoint("/oauth2/token?"+q.Encode()), nil)
	if err != nil {
		return ""
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body) != nil || body.Token == "" {
		return ""
	}
	return "Bearer " + body.Token
}
