// Package azure is a blob.Storage on an Azure Blob Storage container.
package azure
