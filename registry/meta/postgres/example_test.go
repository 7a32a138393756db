package postgres_test

import (
	"context"
	"fmt"
	"log"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/regkit/regkit/registry/meta"
	"github.com/regkit/regkit/registry/meta/postgres"
)

// Open a Store on a PostgreSQL database: every registry frontend opens the
// same database and table and shares its metadata. (The example needs a
// server, so it is compiled but not run.)
func ExampleOpen() {
	ctx := context.Background()
	s, err := postgres.Open(ctx, "postgres://regkit@db.example:5432/registry?pool_max_conns=16",
		postgres.WithTable("regkit_meta"), postgres.WithMaxRetries(20))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// An Update whose writes only are sent costs one round trip: BEGIN,
	// the writes and COMMIT travel in one batch.
	err = s.Update(ctx, func(tx meta.Tx) error {
		for _, tag := range []string{"1.0", "1.1", "latest"} {
			if err := tx.Put([]byte("tag/app/"+tag), []byte("sha256:...")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	// A View reads one snapshot; a Scan reads pages of rows in key order.
	err = s.View(ctx, func(tx meta.Tx) error {
		return tx.Scan(meta.Prefix([]byte("tag/app/")), func(key, _ []byte) bool {
			fmt.Println(string(key))
			return true
		})
	})
	if err != nil {
		log.Fatal(err)
	}
	// A registry runs on it like on any meta.Store, declared shared since
	// other frontends write too (no manifest cache, settings reread):
	//
	//	reg, err := registry.New(sharedBlobs, s, registry.WithSharedStore(0))
}

// Run a Store on a pool the host already has. Close leaves the pool open.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://regkit@db.example:5432/registry")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	s, err := postgres.New(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Health(); err != nil {
		log.Printf("metadata store unhealthy: %v", err)
	}
}
