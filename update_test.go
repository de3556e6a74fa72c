package main

import "testing"

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576": 1 << 20, "-1": -1, "512m": 512 << 20, "1g": 1 << 30, "1G": 1 << 30,
		"2kb": 2048, "2KiB": 2048, "1.5k": 1536, "3T": 3 << 40, "1p": 1 << 50, "0": 0,
	} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-2", "1x", "m", "9999999p", "NaN"} {
		if got, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", bad, got)
		}
	}
}
