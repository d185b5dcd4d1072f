// smd-harness: runs a sequence of applies and updates through sigs.k8s.io/structured-merge-diff
// (the reference implementation) and prints, after each, the object, every manager's field set
// and the conflicts. Built and run by ../differential.rs; reads one JSON document on stdin:
//
//	{"schema": "<SMD schema YAML>", "type": "T", "version": "v1",
//	 "ops": [{"op": "apply"|"update", "manager": "a", "object": {...}, "force": false}]}
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"

	"sigs.k8s.io/structured-merge-diff/v4/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v4/merge"
	"sigs.k8s.io/structured-merge-diff/v4/typed"
)

type op struct {
	Op      string      `json:"op"`
	Manager string      `json:"manager"`
	Object  interface{} `json:"object"`
	Force   bool        `json:"force"`
}

type input struct {
	Schema  string `json:"schema"`
	Type    string `json:"type"`
	Version string `json:"version"`
	Ops     []op   `json:"ops"`
}

type owned struct {
	Set     json.RawMessage `json:"set"`
	Applied bool            `json:"applied"`
}

type conflict struct {
	Manager string `json:"manager"`
	Path    string `json:"path"`
}

type result struct {
	Object    interface{}      `json:"object"`
	Managers  map[string]owned `json:"managers"`
	Conflicts []conflict       `json:"conflicts"`
	Error     string           `json:"error,omitempty"`
}

// One version: converting is the identity.
type sameVersion struct{}

func (sameVersion) Convert(v *typed.TypedValue, _ fieldpath.APIVersion) (*typed.TypedValue, error) {
	return v, nil
}
func (sameVersion) IsMissingVersionError(error) bool { return false }

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail(err)
	}
	parser, err := typed.NewParser(typed.YAMLObject(in.Schema))
	if err != nil {
		fail(err)
	}
	pt := parser.Type(in.Type)
	live, err := pt.FromUnstructured(map[string]interface{}{})
	if err != nil {
		fail(err)
	}
	version := fieldpath.APIVersion(in.Version)
	managers := fieldpath.ManagedFields{}
	updater := merge.Updater{Converter: sameVersion{}}
	var out []result
	for _, o := range in.Ops {
		r := result{Conflicts: []conflict{}}
		obj, err := pt.FromUnstructured(o.Object)
		if err != nil {
			r.Error = err.Error()
		} else {
			var newObj *typed.TypedValue
			var newManagers fieldpath.ManagedFields
			switch o.Op {
			case "apply":
				newObj, newManagers, err = updater.Apply(live, obj, version, copyManagers(managers), o.Manager, o.Force)
			case "update":
				newObj, newManagers, err = updater.Update(live, obj, version, copyManagers(managers), o.Manager)
			default:
				fail(fmt.Errorf("unknown op %q", o.Op))
			}
			var conflicts merge.Conflicts
			if errors.As(err, &conflicts) {
				for _, c := range conflicts {
					r.Conflicts = append(r.Conflicts, conflict{Manager: c.Manager, Path: c.Path.String()})
				}
			} else if err != nil {
				r.Error = err.Error()
			} else {
				managers = newManagers
				if newObj != nil {
					live = newObj
				}
			}
		}
		sort.Slice(r.Conflicts, func(i, j int) bool {
			if r.Conflicts[i].Manager != r.Conflicts[j].Manager {
				return r.Conflicts[i].Manager < r.Conflicts[j].Manager
			}
			return r.Conflicts[i].Path < r.Conflicts[j].Path
		})
		r.Object = live.AsValue().Unstructured()
		r.Managers = map[string]owned{}
		for name, set := range managers {
			b, err := set.Set().ToJSON()
			if err != nil {
				fail(err)
			}
			r.Managers[name] = owned{Set: b, Applied: set.Applied()}
		}
		out = append(out, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}

func copyManagers(m fieldpath.ManagedFields) fieldpath.ManagedFields {
	c := fieldpath.ManagedFields{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "smd-harness:", err)
	os.Exit(1)
}
