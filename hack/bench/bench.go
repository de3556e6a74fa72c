package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/hack/bench/spawn"
)

// Operation names, as the table and the JSON show them.
const (
	opRun      = "run true"
	opRunNoNet = "run true, no netns"
	opCreate   = "create"
	opStart    = "start"
	opDelete   = "delete"
	opLife     = "create+start+delete"
	opExec     = "exec true"
	opDeleteF  = "delete -f running"
)

func opStartN(n int) string { return fmt.Sprintf("run -d x%d", n) }
func opStopN(n int) string  { return fmt.Sprintf("kill+delete x%d", n) }
func opList(n int) string   { return fmt.Sprintf("list, %d present", n) }
func opState(n int) string  { return fmt.Sprintf("state, %d present", n) }

// bench is the measuring process: it runs inside the benchmark's mount and
// cgroup namespaces.
type bench struct {
	cfg     config
	r       *spawn.Client
	bundles *bundles
	rts     []*ociRuntime
	res     *results
	// runDir is a tmpfs private to the benchmark: the runtimes' state,
	// the containers' bundles and pid files.
	runDir  string
	stopped atomic.Bool
}

// inner measures, cleans up and reports.
func inner(cfg config, work string) error {
	started := time.Now()
	if err := enterV1View(); err != nil {
		return err
	}
	run := filepath.Join(work, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", run, "tmpfs", 0, "mode=700"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", run, err)
	}
	r, err := spawn.Start(cfg.spawner)
	if err != nil {
		return err
	}
	bs, err := newBundles(filepath.Join(work, "bundle"), filepath.Join(run, "bundles"))
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, r: r, bundles: bs, res: newResults(), runDir: run}
	for _, rt := range []struct{ name, path string }{{"berth", cfg.berth}, {"runc", cfg.runc}, {"crun", cfg.crun}} {
		b.rts = append(b.rts, &ociRuntime{Name: rt.name, Path: rt.path, root: filepath.Join(run, "root", rt.name)})
	}
	if err := os.MkdirAll(filepath.Join(run, "pid"), 0o700); err != nil {
		return err
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "bench: interrupted; cleaning up")
		b.stopped.Store(true)
	}()

	runErr := b.preflight()
	if runErr == nil {
		b.measure()
		if b.stopped.Load() {
			runErr = errors.New("interrupted")
		}
	}
	leftErr := b.leftovers()
	floor, floorErr := statusKiB(b.r.Pid(), "VmHWM")
	closeErr := errors.Join(floorErr, b.r.Close())

	rep := newReport(b.res, b.rts)
	rep.MaxRSSFloorKiB = floor
	rep.Started, rep.Seconds = started, time.Since(started).Seconds()
	rep.Reps, rep.Rounds, rep.Concurrency = cfg.reps, cfg.rounds, cfg.levels
	rep.Cgroups = "all three runtimes see pure cgroup v1: they run in a private mount namespace whose " +
		"/sys/fs/cgroup is a tmpfs with the host's v1 hierarchies mounted again (a hybrid host's cgroup2 " +
		"'unified' mount left out: crun 1.8 refuses hybrid hosts), and in a cgroup namespace rooted at the " +
		"benchmark's cgroup " + os.Getenv(cgroupEnv) + "; each container's cgroupsPath is <runtime>/<id>, below it."
	if err := errors.Join(leftErr, closeErr); err != nil {
		rep.Errors = append(rep.Errors, strings.Split(err.Error(), "\n")...)
	}
	var jsonErr error
	if cfg.jsonPath != "" {
		jsonErr = rep.writeJSON(cfg.jsonPath)
	}
	rep.printTable(os.Stdout)
	if runErr == nil && len(rep.Errors) > 0 {
		runErr = fmt.Errorf("%d errors (listed above)", len(rep.Errors))
	}
	return errors.Join(runErr, jsonErr)
}

// preflight learns what each runtime is and checks that it can run a
// container whose cgroups are below the benchmark's, before measuring.
func (b *bench) preflight() error {
	for _, rt := range b.rts {
		if err := rt.probe(b.r); err != nil {
			return fmt.Errorf("%s: %w", rt.Name, err)
		}
		c, err := b.startDetached(rt, "probe")
		if err != nil {
			return fmt.Errorf("%s cannot run a container here: %w", rt.Name, err)
		}
		checkErr := checkCgroups(c.pid, "/"+rt.Name+"/probe")
		_, stopErr := b.stop(rt, c)
		if err := errors.Join(checkErr, stopErr); err != nil {
			return fmt.Errorf("%s: %w", rt.Name, err)
		}
	}
	return nil
}

// measure runs every operation; each section interleaves the runtimes.
func (b *bench) measure() {
	reps := b.cfg.reps
	b.section(fmt.Sprintf("run /bin/true, %d reps", reps), func() {
		b.interleave(reps, func(rt *ociRuntime) { b.runTrue(rt, opRun, "run", true) })
	})
	b.section(fmt.Sprintf("run /bin/true without a network namespace, %d reps", reps), func() {
		b.interleave(reps, func(rt *ociRuntime) { b.runTrue(rt, opRunNoNet, "run-nonet", false) })
	})
	b.section(fmt.Sprintf("create, start, delete, %d reps", reps), func() {
		b.interleave(reps, b.lifecycle)
	})
	b.section(fmt.Sprintf("exec, %d reps", reps), b.execs)
	b.section(fmt.Sprintf("delete -f of a running container, %d reps", reps), func() {
		b.interleave(reps, b.deleteForce)
	})
	b.section(fmt.Sprintf("concurrent, %d rounds", b.cfg.rounds), b.concurrency)
}

func (b *bench) section(what string, f func()) {
	if b.stopped.Load() {
		return
	}
	fmt.Fprintf(os.Stderr, "bench: %s\n", what)
	f()
}

// interleave calls f for every runtime, reps times, each repetition starting
// with the next runtime so that none always goes first.
func (b *bench) interleave(reps int, f func(rt *ociRuntime)) {
	for rep := 0; rep < reps && !b.stopped.Load(); rep++ {
		for _, rt := range rotate(b.rts, rep) {
			f(rt)
		}
	}
}

// rotate returns rts starting at index i, wrapping around.
func rotate(rts []*ociRuntime, i int) []*ociRuntime {
	i %= len(rts)
	return append(slices.Clone(rts[i:]), rts[:i]...)
}

func (b *bench) runTrue(rt *ociRuntime, op, id string, netns bool) {
	o := b.res.op(op, false)
	if o.skip(rt.Name) {
		return
	}
	dir, err := b.bundles.get(rt.Name, id, argsTrue, netns)
	if err != nil {
		o.fail(rt.Name, err)
		return
	}
	s, _, err := b.run(rt.cmd("run", "--bundle", dir, id)...)
	if err != nil {
		o.fail(rt.Name, err)
		b.remove(rt, id)
		return
	}
	o.add(rt.Name, s)
}

// lifecycle measures create, start (of /bin/true) and delete of one
// container, the resident set of its process while it waits to be started,
// and their total, which includes the CPU time of the container's process.
func (b *bench) lifecycle(rt *ociRuntime) {
	const id = "life"
	create, start, del := b.res.op(opCreate, false), b.res.op(opStart, false), b.res.op(opDelete, false)
	total := b.res.op(opLife, false)
	if total.skip(rt.Name) {
		return
	}
	fail := func(o *opResults, err error) {
		o.fail(rt.Name, err)
		total.fail(rt.Name, errors.New(o.name+" failed"))
		b.remove(rt, id)
	}
	dir, err := b.bundles.get(rt.Name, id, argsTrue, true)
	if err != nil {
		fail(create, err)
		return
	}
	pidFile := b.pidFile(rt, id)
	c, _, err := b.run(rt.cmd("create", "--bundle", dir, "--pid-file", pidFile, id)...)
	if err != nil {
		fail(create, err)
		return
	}
	pid, err := readPidFile(pidFile)
	if err != nil {
		fail(create, err)
		return
	}
	exited := b.r.Watch(pid)
	rss, err := statusKiB(pid, "VmRSS")
	if err != nil {
		fail(create, err)
		return
	}
	s, _, err := b.run(rt.cmd("start", id)...)
	if err != nil {
		fail(start, err)
		return
	}
	e, err := b.r.AwaitExit(exited, rt.Name+" container process")
	if err != nil {
		fail(start, err)
		return
	}
	d, _, err := b.run(rt.cmd("delete", id)...)
	if err != nil {
		fail(del, err)
		return
	}
	b.res.waitingRSS[rt.Name] = append(b.res.waitingRSS[rt.Name], rss)
	create.add(rt.Name, c)
	start.add(rt.Name, s)
	del.add(rt.Name, d)
	total.add(rt.Name, c.add(s).add(d).add(sample{cpu: e.CPU, maxRSS: e.MaxRSS}))
}

// execs measures exec of /bin/true into a running container, one per
// runtime.
func (b *bench) execs() {
	const id = "exec"
	o := b.res.op(opExec, false)
	running := make(map[string]detached)
	for _, rt := range b.rts {
		if !rt.Exec {
			o.setNotApplicable(rt.Name, rt.Name+" has no exec command yet")
			continue
		}
		c, err := b.startDetached(rt, id)
		if err != nil {
			o.fail(rt.Name, err)
			continue
		}
		running[rt.Name] = c
	}
	b.interleave(b.cfg.reps, func(rt *ociRuntime) {
		if o.skip(rt.Name) {
			return
		}
		s, _, err := b.run(rt.cmd("exec", id, "true")...)
		if err != nil {
			o.fail(rt.Name, err)
			return
		}
		o.add(rt.Name, s)
	})
	for _, rt := range b.rts {
		if c, ok := running[rt.Name]; ok {
			if _, err := b.stop(rt, c); err != nil {
				o.fail(rt.Name, err)
			}
		}
	}
}

func (b *bench) deleteForce(rt *ociRuntime) {
	o := b.res.op(opDeleteF, false)
	if o.skip(rt.Name) {
		return
	}
	c, err := b.startDetached(rt, "delf")
	if err != nil {
		o.fail(rt.Name, err)
		return
	}
	s, _, err := b.run(rt.cmd("delete", "--force", c.id)...)
	if err != nil {
		o.fail(rt.Name, err)
		b.remove(rt, c.id)
		return
	}
	if _, err := b.r.AwaitExit(c.exited, rt.Name+" container process"); err != nil {
		o.fail(rt.Name, err)
		return
	}
	o.add(rt.Name, s)
}

// concurrency starts and stops many containers at once, runtime after
// runtime, and measures list and state while the largest number of
// containers of every runtime is present. A round is one pass over the
// numbers; the runtimes' order turns from round to round.
func (b *bench) concurrency() {
	most := slices.Max(b.cfg.levels)
	listReps := (b.cfg.reps + b.cfg.rounds - 1) / b.cfg.rounds
	for round := 0; round < b.cfg.rounds && !b.stopped.Load(); round++ {
		for _, n := range b.cfg.levels {
			order := rotate(b.rts, round)
			started := make(map[string][]detached)
			for _, rt := range order {
				started[rt.Name] = b.startMany(rt, n)
			}
			if n == most {
				b.listAndState(n, listReps, started)
			}
			for _, rt := range order {
				b.stopMany(rt, n, started[rt.Name])
			}
		}
	}
}

// detached is a container started with run -d.
type detached struct {
	id     string
	pid    int
	exited <-chan spawn.Exit
}

// startDetached runs container id of rt (sleep) in the background, without
// measuring.
func (b *bench) startDetached(rt *ociRuntime, id string) (detached, error) {
	dir, err := b.bundles.get(rt.Name, id, argsSleep, true)
	if err != nil {
		return detached{}, err
	}
	pidFile := b.pidFile(rt, id)
	if _, _, err := b.run(rt.cmd("run", "-d", "--bundle", dir, "--pid-file", pidFile, id)...); err != nil {
		b.remove(rt, id)
		return detached{}, err
	}
	return b.watchDetached(rt, id)
}

func (b *bench) watchDetached(rt *ociRuntime, id string) (detached, error) {
	pid, err := readPidFile(b.pidFile(rt, id))
	if err != nil {
		b.remove(rt, id)
		return detached{}, err
	}
	return detached{id: id, pid: pid, exited: b.r.Watch(pid)}, nil
}

// stop kills a detached container, waits until its process is reaped and
// deletes it, as an engine does. The sample adds up kill and delete.
func (b *bench) stop(rt *ociRuntime, c detached) (sample, error) {
	k, _, err := b.run(rt.cmd("kill", c.id, "KILL")...)
	if err == nil {
		_, err = b.r.AwaitExit(c.exited, rt.Name+" container "+c.id)
	}
	if err != nil {
		b.remove(rt, c.id)
		return k, err
	}
	d, _, err := b.run(rt.cmd("delete", c.id)...)
	if err != nil {
		b.remove(rt, c.id)
	}
	return k.add(d), err
}

// startMany starts n containers of rt at once and returns those that run.
func (b *bench) startMany(rt *ociRuntime, n int) []detached {
	o := b.res.op(opStartN(n), true)
	if o.skip(rt.Name) || b.stopped.Load() {
		return nil
	}
	ids, dirs := make([]string, n), make([]string, n)
	for i := range n {
		ids[i] = "c" + strconv.Itoa(i)
		var err error
		if dirs[i], err = b.bundles.get(rt.Name, ids[i], argsSleep, true); err != nil {
			o.fail(rt.Name, err)
			return nil
		}
		os.Remove(b.pidFile(rt, ids[i]))
	}
	samples, errs := make([]sample, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			samples[i], _, errs[i] = b.run(rt.cmd("run", "-d", "--bundle", dirs[i], "--pid-file", b.pidFile(rt, ids[i]), ids[i])...)
		})
	}
	wg.Wait()
	var all sample
	var started []detached
	for i := range n {
		err := errs[i]
		if err == nil {
			var c detached
			if c, err = b.watchDetached(rt, ids[i]); err == nil {
				started = append(started, c)
				all = all.overlap(samples[i])
				continue
			}
		}
		b.remove(rt, ids[i])
		o.fail(rt.Name, err)
	}
	if !o.skip(rt.Name) {
		o.add(rt.Name, all)
	}
	return started
}

// stopMany stops the containers at once, each as stop does.
func (b *bench) stopMany(rt *ociRuntime, n int, started []detached) {
	o := b.res.op(opStopN(n), true)
	samples, errs := make([]sample, len(started)), make([]error, len(started))
	var wg sync.WaitGroup
	for i, c := range started {
		wg.Go(func() { samples[i], errs[i] = b.stop(rt, c) })
	}
	wg.Wait()
	var all sample
	for i := range started {
		if errs[i] != nil {
			o.fail(rt.Name, errs[i])
		}
		all = all.overlap(samples[i])
	}
	if len(started) < n {
		o.fail(rt.Name, fmt.Errorf("only %d of %d containers were started", len(started), n))
	}
	if !o.skip(rt.Name) {
		o.add(rt.Name, all)
	}
}

// listAndState measures list and state of one container while n containers
// of every runtime are present.
func (b *bench) listAndState(n, reps int, started map[string][]detached) {
	list, state := b.res.op(opList(n), false), b.res.op(opState(n), false)
	b.interleave(reps, func(rt *ociRuntime) {
		if len(started[rt.Name]) < n {
			err := fmt.Errorf("only %d of %d containers were started", len(started[rt.Name]), n)
			list.fail(rt.Name, err)
			state.fail(rt.Name, err)
			return
		}
		for _, m := range []struct {
			o    *opResults
			args []string
		}{{list, []string{"list"}}, {state, []string{"state", started[rt.Name][0].id}}} {
			if m.o.skip(rt.Name) {
				continue
			}
			s, _, err := b.run(rt.cmd(m.args...)...)
			if err != nil {
				m.o.fail(rt.Name, err)
				continue
			}
			m.o.add(rt.Name, s)
		}
	})
}

func (b *bench) pidFile(rt *ociRuntime, id string) string {
	return filepath.Join(b.runDir, "pid", rt.Name+"-"+id)
}

// run runs a runtime command and measures it.
func (b *bench) run(argv ...string) (sample, string, error) {
	e, out, err := b.r.Run(argv...)
	return sampleOf(e), out, err
}

// remove deletes a container after a failure, as well as it can.
func (b *bench) remove(rt *ociRuntime, id string) {
	_, _, _ = b.run(rt.cmd("delete", "--force", id)...)
}
