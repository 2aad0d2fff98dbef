package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/docker/go-units"

	"github.com/skiff-dev/skiff/engine"
)

// printDFVerbose is `system df -v`: Docker's per-image, per-container and
// per-volume tables, then the build cache (skiff keeps build steps as
// images, so it has none of its own).
func printDFVerbose(w io.Writer, e *engine.Engine) error {
	imgs, err := e.ImageList(engine.ImageListOptions{})
	if err != nil {
		return err
	}
	shared, err := e.SharedSizes()
	if err != nil {
		return err
	}
	ctrs, err := e.Ps(engine.PsOptions{All: true, Size: true})
	if err != nil {
		return err
	}
	vols, err := e.VolumeUsage()
	if err != nil {
		return err
	}
	now := time.Now()
	sections := []struct {
		title, format string
		header        any
		rows          []any
	}{
		{"Images space usage:", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}", dfImage{header: true}, nil},
		{"Containers space usage:", "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}", dfContainer{psRow{header: true}}, nil},
		{"Local Volumes space usage:", "table {{.Name}}\t{{.Links}}\t{{.Size}}", dfVolume{header: true}, nil},
	}
	for _, r := range imgs {
		sections[0].rows = append(sections[0].rows, dfImage{r: r, shared: shared[r.Image.ID]})
	}
	for _, p := range ctrs {
		sections[1].rows = append(sections[1].rows, dfContainer{psRow{p: p, trunc: true, now: now}})
	}
	for _, v := range vols {
		sections[2].rows = append(sections[2].rows, dfVolume{v: v})
	}
	for i, s := range sections {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n\n", s.title)
		f, err := parseCtrFormat(s.format)
		if err != nil {
			return err
		}
		if err := f.write(w, s.header, s.rows); err != nil {
			return err
		}
	}
	fmt.Fprint(w, "\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n")
	return nil
}

// dfImage is an images row of system df -v (header: the column titles).
type dfImage struct {
	r      engine.ImageRow
	shared int64
	header bool
}

func (d dfImage) Repository() string {
	if d.header {
		return "REPOSITORY"
	}
	return d.r.Repository
}
func (d dfImage) Tag() string {
	if d.header {
		return "TAG"
	}
	return d.r.Tag
}
func (d dfImage) ID() string {
	if d.header {
		return "IMAGE ID"
	}
	return imgID(d.r.Image.ID, false)
}
func (d dfImage) CreatedSince() string {
	if d.header {
		return "CREATED"
	}
	return imgSince(d.r.Image.Created)
}
func (d dfImage) Size() string {
	if d.header {
		return "SIZE"
	}
	return units.HumanSize(float64(d.r.Image.Size))
}
func (d dfImage) SharedSize() string {
	if d.header {
		return "SHARED SIZE"
	}
	return units.HumanSize(float64(d.shared))
}
func (d dfImage) UniqueSize() string {
	if d.header {
		return "UNIQUE SIZE"
	}
	return units.HumanSize(float64(d.r.Image.Size - d.shared))
}
func (d dfImage) Containers() string {
	if d.header {
		return "CONTAINERS"
	}
	return strconv.Itoa(d.r.Containers)
}

// dfContainer is a ps row whose SIZE is the writable layer's alone.
type dfContainer struct{ psRow }

func (d dfContainer) Size() string {
	if d.header {
		return "SIZE"
	}
	return units.HumanSize(float64(d.p.SizeRw))
}

// dfVolume is a volumes row of system df -v.
type dfVolume struct {
	v      engine.VolumeUse
	header bool
}

func (d dfVolume) Name() string {
	if d.header {
		return "VOLUME NAME"
	}
	return d.v.Name
}
func (d dfVolume) Links() string {
	if d.header {
		return "LINKS"
	}
	return strconv.Itoa(d.v.Links)
}
func (d dfVolume) Size() string {
	if d.header {
		return "SIZE"
	}
	return units.HumanSize(float64(d.v.Size))
}
