// Package image gets, stores and moves container images: references and
// registries.conf, pull and push through go-containerregistry, the
// content-addressed blob store, layers unpacked once per chain id, the image
// index with its tags, import/save/load, and the layer diff used by commit.
package image
