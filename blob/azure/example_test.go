package azure_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"github.com/opencontainers/go-digest"

	"github.com/regkit/regkit/blob"
	"github.com/regkit/regkit/blob/azure"
)

// Example opens a Store on a container of Azurite's development account
// and stores and reads one blob. It needs a running Blob service, so it is
// compiled, not run.
func Example() {
	ctx := context.Background()
	// Azurite's published development key; use your account's own.
	key := "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	cred, err := service.NewSharedKeyCredential("devstoreaccount1", key)
	if err != nil {
		log.Fatal(err)
	}
	s, err := azure.Open(ctx, "http://127.0.0.1:10000/devstoreaccount1/", "registry", cred,
		azure.WithPrefix("prod"))
	if err != nil {
		log.Fatal(err)
	}
	content := "hello, blob"
	d := digest.FromString(content)
	if _, err := blob.Put(ctx, s, d, int64(len(content)), strings.NewReader(content)); err != nil {
		log.Fatal(err)
	}
	info, err := s.Stat(ctx, d)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Size)
}
