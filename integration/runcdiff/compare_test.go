package runcdiff

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sameText compares stdout as text, after normalizing.
func sameText(b, r observed) error {
	if b.Stdout != r.Stdout {
		return fmt.Errorf("stdout differs:\n%s", lineDiff(b.Stdout, r.Stdout))
	}
	return nil
}

// anyOutput compares nothing of stdout.
func anyOutput(b, r observed) error { return nil }

// stateJSON compares `state` output: the OCI state as runc prints it.
func stateJSON(b, r observed) error {
	var bs, rs map[string]any
	if err := json.Unmarshal([]byte(b.Stdout), &bs); err != nil {
		return fmt.Errorf("berth's state is not JSON: %v\n%s", err, b.Stdout)
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rs); err != nil {
		return fmt.Errorf("runc's state is not JSON: %v\n%s", err, r.Stdout)
	}
	return sameJSON(normalState(b.side, bs), normalState(r.side, rs))
}

// normalState replaces what must differ between the runtimes by what it
// must be: ociVersion is the spec version the runtime implements, pid a
// live process or 0, created a time.
func normalState(s *side, st map[string]any) map[string]any {
	if st["ociVersion"] == s.rt.SpecVersion {
		st["ociVersion"] = "$SPEC_VERSION"
	}
	if pid, ok := st["pid"].(float64); ok && pid > 0 {
		st["pid"] = "$PID"
	}
	if created, ok := st["created"].(string); ok {
		if ts, err := time.Parse(time.RFC3339Nano, created); err == nil && time.Since(ts) < time.Hour {
			st["created"] = "$TIME"
		}
	}
	return st
}

// listJSON compares `list -f json` output: an array of states.
func listJSON(b, r observed) error {
	var bl, rl []map[string]any
	if err := json.Unmarshal([]byte(b.Stdout), &bl); err != nil {
		return fmt.Errorf("berth's list is not a JSON array: %v\n%s", err, b.Stdout)
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rl); err != nil {
		return fmt.Errorf("runc's list is not a JSON array: %v\n%s", err, r.Stdout)
	}
	for _, st := range bl {
		normalState(b.side, st)
	}
	for _, st := range rl {
		normalState(r.side, st)
	}
	return sameJSON(bl, rl)
}

// listTable compares `list`'s table: the header and each row, with the pid
// and the time of creation normalized.
func listTable(b, r observed) error {
	return sameJSON(tableRows(b.Stdout), tableRows(r.Stdout))
}

func tableRows(out string) [][]string {
	var rows [][]string
	for i, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		f := strings.Fields(line)
		if i > 0 && len(f) == 6 {
			if pid, err := strconv.Atoi(f[1]); err == nil && pid > 0 {
				f[1] = "$PID"
			}
			if _, err := time.Parse(time.RFC3339Nano, f[4]); err == nil {
				f[4] = "$TIME"
			}
		}
		rows = append(rows, f)
	}
	return rows
}

// pidList compares `ps -f json` output: how many pids, each a process.
func pidList(b, r observed) error {
	count := func(o observed) (string, error) {
		var pids []int
		if err := json.Unmarshal([]byte(o.Stdout), &pids); err != nil {
			return "", fmt.Errorf("%s's ps is not a JSON array of pids: %v\n%s", o.side.rt.Name, err, o.Stdout)
		}
		for _, p := range pids {
			if p <= 0 {
				return "", fmt.Errorf("%s's ps lists pid %d", o.side.rt.Name, p)
			}
		}
		return fmt.Sprintf("%d pids", len(pids)), nil
	}
	bc, err := count(b)
	if err != nil {
		return err
	}
	rc, err := count(r)
	if err != nil {
		return err
	}
	if bc != rc {
		return fmt.Errorf("berth lists %s, runc %s", bc, rc)
	}
	return nil
}

// psTable compares ps's table: the header and, for each process, the
// columns named; the others (times, pids) differ from run to run.
func psTable(columns ...string) compareFunc {
	rows := func(out string) []string {
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		header := strings.Fields(lines[0])
		res := []string{strings.Join(header, " ")}
		for _, line := range lines[1:] {
			f := strings.Fields(line)
			var kept []string
			for _, c := range columns {
				i := slices.Index(header, c)
				switch {
				case i < 0 || i >= len(f):
					kept = append(kept, c+"?")
				case i == len(header)-1:
					kept = append(kept, strings.Join(f[i:], " "))
				default:
					kept = append(kept, f[i])
				}
			}
			res = append(res, strings.Join(kept, " "))
		}
		sort.Strings(res[1:])
		return res
	}
	return func(b, r observed) error {
		return sameJSON(rows(b.Stdout), rows(r.Stdout))
	}
}

// jsonShape compares the structure of JSON output: each path to a value
// and the value's type; values where keep says so.
func jsonShape(keep ...string) compareFunc {
	return func(b, r observed) error {
		bs, rs, err := shapes(b, r, keep)
		if err != nil {
			return err
		}
		return sameJSON(bs, rs)
	}
}

// shapes returns the shapes (shapeOf) of what berth and runc printed.
func shapes(b, r observed, keep []string) (bs, rs []string, err error) {
	if bs, err = shapeOf(b.Stdout, keep); err != nil {
		return nil, nil, fmt.Errorf("berth: %w", err)
	}
	if rs, err = shapeOf(r.Stdout, keep); err != nil {
		return nil, nil, fmt.Errorf("runc: %w", err)
	}
	return bs, rs, nil
}

// shapeOf flattens JSON lines into "path: type" lines (array elements
// share the path "[]"), or "path = value" for the paths in keep.
func shapeOf(out string, keep []string) ([]string, error) {
	set := map[string]bool{}
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not JSON: %v\n%s", err, out)
		}
		flatten("", v, keep, set)
	}
	var lines []string
	for l := range set {
		lines = append(lines, l)
	}
	sort.Strings(lines)
	return lines, nil
}

func flatten(path string, v any, keep []string, set map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		set[path+": object"] = true
		for k, e := range v {
			flatten(path+"."+k, e, keep, set)
		}
	case []any:
		set[path+": array"] = true
		for _, e := range v {
			flatten(path+"[]", e, keep, set)
		}
	default:
		if slices.Contains(keep, path) {
			data, _ := json.Marshal(v)
			set[path+" = "+string(data)] = true
			return
		}
		set[fmt.Sprintf("%s: %T", path, v)] = true
	}
}

// sameJSON compares two values through their JSON, line by line.
func sameJSON(b, r any) error {
	bj, _ := json.MarshalIndent(b, "", "  ")
	rj, _ := json.MarshalIndent(r, "", "  ")
	if string(bj) != string(rj) {
		return fmt.Errorf("differs:\n%s", lineDiff(string(bj), string(rj)))
	}
	return nil
}
