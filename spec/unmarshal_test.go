package spec

import (
	"encoding/json"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fullSpec sets every kind of field the decoder meets in a config: nested
// pointers, embedded structs (the block I/O devices), maps, empty and nil
// slices, numbers of every width.
func fullSpec() *specs.Spec {
	s := Default()
	u16 := func(v uint16) *uint16 { return &v }
	i64 := func(v int64) *int64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	s.Annotations = map[string]string{"a": "b", "ünï": "cödé\n\"quoted\""}
	s.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/true", Args: []string{}, Timeout: new(int)}}}
	s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	s.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(-1), Swappiness: u64(1<<63 + 5)},
		CPU:    &specs.LinuxCPU{Shares: u64(1024), Quota: i64(-50000), Cpus: "0-1"},
		BlockIO: &specs.LinuxBlockIO{
			Weight:                 u16(500),
			WeightDevice:           []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(10)}},
			ThrottleReadBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: -1, Minor: 1}, Rate: 1 << 40}},
			ThrottleWriteBpsDevice: []specs.LinuxThrottleDevice{},
		},
		Unified: map[string]string{},
	}
	s.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64},
		Flags:         []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_LOG"},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: 1, Value: 1 << 63, ValueTwo: 0, Op: specs.OpMaskedEqual}}}},
	}
	return s
}

func mustMarshal(t testing.TB, v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// checkSame decodes doc with Unmarshal and with encoding/json into a fresh
// *T each and fails unless results and errors are the same.
func checkSame[T any](t *testing.T, doc string) {
	t.Helper()
	var got, want *T
	gotErr := Unmarshal([]byte(doc), &got)
	wantErr := json.Unmarshal([]byte(doc), &want)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("%s: error %v, encoding/json says %v", doc, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\ngot  %#v\nwant %#v", doc, got, want)
	}
}

func unmarshalCases(t testing.TB) []string {
	return []string{
		mustMarshal(t, Default()),
		mustMarshal(t, fullSpec()),
		`{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"}}`,
		// Keys matched ignoring case, unknown ones skipped whatever they hold.
		`{"OCIVERSION":"1","Process":{"ARGS":["a"]},"unknown":{"x":[1,{"y":"}"}],"z":null},"hostName":"h"}`,
		`{"annotations":{},"mounts":[],"hooks":null,"linux":{"sysctl":null,"namespaces":[]}}`,
		"  {\"hostname\" : \"\\u00e9\\ud83d\\ude00\\\"\" ,\n\"domainname\":\"\\ud800x\"}\t",
		"{\"hostname\":\"bad \xff utf-8\",\"annotations\":{\"k\\u0000\":\"v\"}}",
		// Repeated keys, which encoding/json merges.
		`{"hostname":"a","hostname":"b","process":{"args":["x","y"]},"process":{"args":["z"]}}`,
		`{"linux":{"sysctl":{"a":"1","a":"2"}}}`,
		// What encoding/json refuses or converts, and where it says so.
		`{"process":{"user":{"uid":-1}}}`,
		`{"process":{"user":{"uid":4294967296}}}`,
		`{"process":{"user":{"uid":1.5}}}`,
		`{"process":{"user":{"uid":"0"}}}`,
		`{"process":{"terminal":"yes"}}`,
		`{"process":{"args":"sh"}}`,
		`{"linux":{"resources":{"blockIO":{"weight":70000}}}}`,
		`{"windows":{"credentialSpec":{"a":[1,2]}}}`,
		`{"process":{"rlimits":[{"type":"RLIMIT_NOFILE","hard":1e3}]}}`,
		`{"hostname":"a",}`,
		`{"hostname":"a"} x`,
		`[]`, `"spec"`, `null`, `{}`, ``,
	}
}

func TestUnmarshalMatchesEncodingJSON(t *testing.T) {
	for _, doc := range unmarshalCases(t) {
		checkSame[specs.Spec](t, doc)
	}
	checkSame[map[string]string](t, `{"a":"b"}`)
	checkSame[[]int](t, `[1,2,3]`)
	checkSame[struct{ A []byte }](t, `{"a":"aGVsbG8="}`)
	checkSame[struct{ A [2]int }](t, `{"a":[1,2,3]}`)
	checkSame[struct {
		A int `json:"a,string"`
	}](t, `{"a":"5"}`)
}

// The decoder must do the work for configs, not hand every one to
// encoding/json.
func TestUnmarshalDecodesSpecItself(t *testing.T) {
	for _, s := range []*specs.Spec{Default(), fullSpec()} {
		doc := mustMarshal(t, s)
		d := decoder{data: []byte(doc)}
		var got, want *specs.Spec
		if err := d.value(reflect.ValueOf(&got).Elem()); err != nil {
			t.Fatalf("left a config to encoding/json: %v", err)
		}
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v\nwant %#v", got, want)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, doc := range append(unmarshalCases(f), engineConfigs(f)...) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		checkSame[specs.Spec](t, doc)
	})
}
