package registry

import (
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/regkit/regkit/manifest"
	"github.com/regkit/regkit/registry/internal/schema"
	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/tag"
)

// Manifests are a repository's manifest operations.
type Manifests struct {
	repo *Repository
}

// Manifest is a stored manifest: its descriptor and its exact bytes.
type Manifest struct {
	// Descriptor has the media type, digest, size, artifact type and
	// annotations.
	Descriptor ocispec.Descriptor
	// Bytes are the manifest exactly as pushed.
	Bytes []byte
}

// PutOptions are the per-call settings of Manifests.Put.
type PutOptions struct {
	// MediaType is the declared media type (the request's Content-Type).
	// Empty: detected from the body.
	MediaType string
	// Tag, when set, is pointed at the manifest.
	Tag string
	// Tags are more tags to point at the manifest (the OCI ?tag= parameters
	// of a push by digest).
	Tags []string
	// Digest, when set, is the digest the manifest was pushed by; the bytes
	// must hash to it (any supported algorithm). Default: the sha256 of the
	// bytes.
	Digest digest.Digest
	// IfTagMatch makes the tag move a compare-and-swap: it succeeds only if
	// the tag currently points to this digest.
	IfTagMatch digest.Digest
	// IfTagAbsent makes the tag move succeed only if the tag does not exist.
	IfTagAbsent bool
}

// Put validates and stores a manifest. Every blob it references must be
// linked into the repository and every child manifest stored in it; the
// subject of a referrer need not exist. Pushing bytes that are already
// stored is idempotent. Returns the manifest's descriptor.
func (ms *Manifests) Put(ctx context.Context, data []byte, opts PutOptions) (ocispec.Descriptor, error) {
	if err := ms.repo.reg.enter(); err != nil {
		return ocispec.Descriptor{}, err
	}
	defer ms.repo.reg.leave()
	tags := opts.Tags
	if opts.Tag != "" {
		tags = append([]string{opts.Tag}, opts.Tags...)
	}
	for _, tg := range tags {
		if err := tag.ValidateName(tg); err != nil {
			return ocispec.Descriptor{}, errorf(ErrTagInvalid, "%w", err)
		}
	}
	reg := ms.repo.reg
	m, err := manifest.Parse(opts.MediaType, data, &reg.opts.manifestOpts)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	dgst := m.Digest()
	if opts.Digest != "" {
		if err := validDigest(opts.Digest); err != nil {
			return ocispec.Descriptor{}, err
		}
		if opts.Digest.Algorithm() != dgst.Algorithm() {
			dgst = opts.Digest.Algorithm().FromBytes(data)
		}
		if dgst != opts.Digest {
			return ocispec.Descriptor{}, errorf(ErrDigestMismatch, "manifest bytes hash to %s, pushed as %s", dgst, opts.Digest)
		}
	}
	rec := ms.newRecord(ctx, m)
	desc := rec.Descriptor(dgst)
	name := ms.repo.name
	cas := newCAS(opts.IfTagMatch, opts.IfTagAbsent)
	err = reg.update(ctx, func(t *txn) error {
		repo, err := loadRepo(t, name)
		if err != nil {
			return err
		}
		stored, err := schema.Manifests.Has(t, name, dgst)
		if err != nil {
			return err
		}
		if !stored {
			if err := tag.CheckWrite(repo.item()); err != nil {
				return err
			}
			if err := storeManifest(t, repo, dgst, data, rec); err != nil {
				return err
			}
			t.emit(Event{Action: ActionPush, Repository: name, Tag: opts.Tag, Digest: dgst, MediaType: rec.MediaType, Size: rec.Size})
		}
		for _, tg := range tags {
			if _, err := setTag(t, repo, tg, dgst, cas); err != nil {
				return err
			}
		}
		if stored && len(tags) == 0 {
			return nil
		}
		return repo.save(t)
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// storeManifest writes a new manifest's record, bytes and indexes and counts
// its references.
func storeManifest(t *txn, repo *repoState, dgst digest.Digest, data []byte, rec schema.Manifest) error {
	name := repo.name
	if err := refuseDeleted(t, name, dgst); err != nil {
		return err
	}
	det := rec.Detail
	for _, c := range det.Children {
		ok, err := schema.Manifests.Has(t, name, c)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestChildUnknown, "manifest %s in %q", c, name)
		}
	}
	if err := addRefs(t, name, det.Blobs); err != nil {
		return err
	}
	for _, c := range det.Children {
		if err := schema.Children.Put(t, name, c, dgst); err != nil {
			return err
		}
	}
	if rec.Subject != "" {
		if err := schema.Referrers.Put(t, name, rec.Subject, dgst, rec.Descriptor(dgst)); err != nil {
			return err
		}
	}
	rec.CreatedAt, rec.UpdatedAt = t.now, t.now
	rec.Attributes = tag.DefaultAttributes()
	rec.UntaggedSince = t.now
	if err := schema.Untagged.Put(t, t.now, name, dgst); err != nil {
		return err
	}
	if err := schema.Manifests.Put(t, name, dgst, &rec); err != nil {
		return err
	}
	if err := schema.Details.Put(t, name, dgst, det); err != nil {
		return err
	}
	repo.rec.ManifestCount++
	return schema.ManifestBytes.Put(t, name, dgst, data)
}

// newRecord builds the record of a parsed manifest, reading the image
// config for its platform when the config is an image config.
func (ms *Manifests) newRecord(ctx context.Context, m *manifest.Manifest) schema.Manifest {
	det := &schema.Detail{Annotations: m.Annotations()}
	rec := schema.Manifest{
		MediaType:    m.MediaType(),
		Size:         m.Size(),
		ArtifactType: m.ArtifactType(),
		Detail:       det,
	}
	if s := m.Subject(); s != nil {
		rec.Subject = s.Digest
	}
	seen := map[digest.Digest]bool{}
	for _, ref := range m.References() {
		d := ref.Descriptor.Digest
		switch ref.Kind {
		case manifest.KindConfig, manifest.KindLayer:
			if ref.Kind == manifest.KindLayer && manifest.IsForeign(ref.Descriptor.MediaType) && len(ref.Descriptor.URLs) > 0 {
				continue // non-distributable: the bytes live elsewhere
			}
			if !seen[d] {
				seen[d] = true
				det.Blobs = append(det.Blobs, d)
			}
		case manifest.KindManifest:
			if !seen[d] {
				seen[d] = true
				det.Children = append(det.Children, d)
			}
			det.Refs = append(det.Refs, schema.ChildRef{Digest: d, Platform: ref.Descriptor.Platform})
		}
	}
	if c := m.Config(); c != nil {
		rec.ConfigMediaType = c.MediaType
		det.Platform = ms.configPlatform(ctx, *c)
	}
	return rec
}

// configPlatform reads os and architecture from an image config blob. It is
// best effort: any failure leaves the platform unknown.
func (ms *Manifests) configPlatform(ctx context.Context, c ocispec.Descriptor) *ocispec.Platform {
	if c.MediaType != ocispec.MediaTypeImageConfig && c.MediaType != manifest.MediaTypeDockerConfig {
		return nil
	}
	const maxConfig = 1 << 20
	if c.Size <= 0 || c.Size > maxConfig || validDigest(c.Digest) != nil {
		return nil
	}
	ra, err := ms.repo.reg.cache.open(ctx, ms.repo.reg.blobs, c.Digest)
	if err != nil {
		return nil
	}
	defer ra.Close()
	var cfg struct {
		ocispec.Platform
	}
	if err := json.NewDecoder(io.NewSectionReader(ra, 0, min(ra.Size(), maxConfig))).Decode(&cfg); err != nil {
		return nil
	}
	if cfg.OS == "" && cfg.Architecture == "" {
		return nil
	}
	return &cfg.Platform
}

// GetOptions are the per-call settings of Manifests.Get.
type GetOptions struct {
	// Accept lists the media types the caller takes (from the Accept
	// header); empty or containing "*/*" takes any. Negotiation is lenient:
	// when an index is not accepted but an image manifest type is, the
	// index's linux/amd64 child is returned (as older Docker clients
	// expect); otherwise the stored manifest is returned as it is and the
	// client decides.
	Accept []string
}

// Get returns the manifest a tag or digest names. The Descriptor carries
// media type, digest, size and artifact type (annotations: see Properties).
// In a repository a cache rule covers, a miss is fetched from the upstream
// first (see CacheRule).
func (ms *Manifests) Get(ctx context.Context, ref string, opts GetOptions) (*Manifest, error) {
	if err := ms.repo.reg.enter(); err != nil {
		return nil, err
	}
	defer ms.repo.reg.leave()
	m, err := ms.get(ctx, ref, opts, true)
	if rs := ms.repo.reg.cacheRules.Load(); rs != nil {
		m, err = ms.pullThrough(ctx, rs, ref, opts, true, m, err)
	}
	if err == nil {
		ms.repo.reg.recordPull(ms.repo.name, ref, m.Descriptor.Digest)
	}
	return m, err
}

// Stat returns the descriptor of the manifest a tag or digest names, after
// the same negotiation as Get.
func (ms *Manifests) Stat(ctx context.Context, ref string, opts GetOptions) (ocispec.Descriptor, error) {
	if err := ms.repo.reg.enter(); err != nil {
		return ocispec.Descriptor{}, err
	}
	defer ms.repo.reg.leave()
	m, err := ms.get(ctx, ref, opts, false)
	if rs := ms.repo.reg.cacheRules.Load(); rs != nil {
		m, err = ms.pullThrough(ctx, rs, ref, opts, false, m, err)
	}
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return m.Descriptor, nil
}

func (ms *Manifests) get(ctx context.Context, ref string, opts GetOptions, withBytes bool) (*Manifest, error) {
	mc := ms.repo.reg.mcache
	ck := cacheKey(ms.repo.name, ref)
	if m, ok := mc.get(ck, withBytes); ok && !needsNegotiation(opts.Accept, m.Descriptor.MediaType) {
		return m, nil
	}
	gen := mc.begin()
	var out Manifest
	var fallback digest.Digest
	err := ms.resolve(ctx, ref, func(tx meta.Tx, dgst digest.Digest, rec schema.Manifest) error {
		out.Descriptor = rec.Descriptor(dgst)
		negotiate := needsNegotiation(opts.Accept, rec.MediaType)
		if !withBytes && !negotiate && mc == nil {
			return nil // with the cache, a HEAD reads the bytes to fill it
		}
		b, err := schema.ManifestBytes.Get(tx, ms.repo.name, dgst)
		if err != nil {
			return err
		}
		if negotiate {
			fallback = defaultChild(rec.MediaType, b, opts.Accept)
		}
		out.Bytes = append([]byte(nil), b...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if fallback != "" {
		return ms.get(ctx, fallback.String(), GetOptions{}, withBytes)
	}
	mc.put(ck, gen, &out)
	if !withBytes {
		out.Bytes = nil
	}
	return &out, nil
}

// needsNegotiation reports whether a manifest of mediaType may be answered
// with another (an index's child) for a client that accepts accept.
func needsNegotiation(accept []string, mediaType string) bool {
	return !accepts(accept, mediaType) && manifest.IsIndexMediaType(mediaType)
}

// defaultChild picks the linux/amd64 child of an index whose media type
// the client accepts, or "" when there is none.
func defaultChild(mediaType string, b []byte, accept []string) digest.Digest {
	m, err := manifest.Parse(mediaType, b, &manifest.Options{AllowUnknown: true})
	if err != nil || m.Index() == nil {
		return ""
	}
	d, err := manifest.SelectPlatform(m.Index(), ocispec.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil || !accepts(accept, d.MediaType) {
		return ""
	}
	return d.Digest
}

// resolve finds the manifest ref names, checks readEnabled on the way and
// calls fn inside the same read transaction.
func (ms *Manifests) resolve(ctx context.Context, ref string, fn func(meta.Tx, digest.Digest, schema.Manifest) error) error {
	name := ms.repo.name
	isDigest := strings.Contains(ref, ":")
	if isDigest {
		if err := validDigest(digest.Digest(ref)); err != nil {
			return err
		}
	} else if err := tag.ValidateName(ref); err != nil {
		return errorf(ErrTagInvalid, "%w", err)
	}
	return ms.repo.reg.view(ctx, func(tx meta.Tx) error {
		repo, err := loadRepo(tx, name)
		if err != nil {
			return err
		}
		items := []tag.Item{repo.item()}
		dgst := digest.Digest(ref)
		if !isDigest {
			tr, ok, err := schema.Tags.Get(tx, name, ref)
			if err != nil {
				return err
			}
			if !ok {
				return errorf(ErrManifestUnknown, "tag %q in %q", ref, name)
			}
			dgst = tr.Digest
			items = append(items, tag.Tag(ref, tr.Attributes))
		}
		rec, ok, err := schema.Manifests.Get(tx, name, dgst)
		if err != nil {
			return err
		}
		if !ok {
			return errorf(ErrManifestUnknown, "manifest %s in %q", dgst, name)
		}
		items = append(items, tag.Manifest(dgst.String(), rec.Attributes))
		if err := tag.CheckRead(items...); err != nil {
			return err
		}
		return fn(tx, dgst, rec)
	})
}

func accepts(accept []string, mediaType string) bool {
	if len(accept) == 0 {
		return true
	}
	for _, a := range accept {
		a = strings.TrimSpace(a)
		if i := strings.IndexByte(a, ';'); i >= 0 {
			a = strings.TrimSpace(a[:i])
		}
		if a == "*/*" || strings.EqualFold(a, mediaType) {
			return true
		}
		if strings.HasSuffix(a, "/*") && strings.HasPrefix(mediaType, a[:len(a)-1]) {
			return true
		}
	}
	return false
}
