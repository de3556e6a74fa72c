package runcdiff

import "testing"

// TestRuncDiff runs every scenario against berth and runc.
func TestRuncDiff(t *testing.T) {
	var all []scenario
	for _, table := range [][]scenario{lifecycleCases, execCases, updateCases(), cliCases, configCases,
		engineCases(), badInputCases, compatCases, issue14Cases} {
		all = append(all, table...)
	}
	seen := map[string]bool{}
	for _, sc := range all {
		if seen[sc.Name] {
			t.Fatalf("two cases are named %q", sc.Name)
		}
		seen[sc.Name] = true
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			sc.run(t)
		})
	}
}
