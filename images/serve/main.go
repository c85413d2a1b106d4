// Command serve is the test workload's HTTP side, in two modes.
//
// Server (`serve -listen :8080`): PID 1 of a container that must answer
// requests. GET / answers 200 with the image version and the hostname.
// On SIGTERM it keeps answering for -drain, but with 503 "stopping", then
// exits: a request that reaches a stopping container is visible as such.
//
// Client (`serve -probe-service APP`): a client pod that sends GET / to the
// Service whose environment variables (APP_SERVICE_HOST, APP_SERVICE_PORT)
// the kubelet injected, every -interval, and prints one JSON line per
// request: its start time, duration, status and body or error.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const versionFile = "/etc/inplace-conformance/image-version"

func main() {
	listen := flag.String("listen", "", "serve on this address")
	drain := flag.Duration("drain", time.Second, "keep answering 503 this long after SIGTERM")
	service := flag.String("probe-service", "", "probe the Service with this env prefix")
	interval := flag.Duration("interval", 100*time.Millisecond, "time between probes")
	timeout := flag.Duration("timeout", time.Second, "give up on a probe request after this long")
	flag.Parse()
	switch {
	case *listen != "":
		serve(*listen, *drain)
	case *service != "":
		probe(*service, *interval, *timeout)
	default:
		fmt.Fprintln(os.Stderr, "usage: serve -listen ADDR [-drain D] | serve -probe-service PREFIX [-interval D]")
		os.Exit(2)
	}
}

func serve(addr string, drain time.Duration) {
	version, _ := os.ReadFile(versionFile)
	host, _ := os.Hostname()
	var stopping atomic.Bool
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		if stopping.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "stopping %s %s", strings.TrimSpace(string(version)), host)
			return
		}
		fmt.Fprintf(w, "serving %s %s", strings.TrimSpace(string(version)), host)
	})
	server := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}()
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reapChildren()
			continue
		}
		stopping.Store(true)
		time.Sleep(drain)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = server.Shutdown(ctx)
		cancel()
		os.Exit(0)
	}
}

// reapChildren collects every exited child without blocking: as PID 1 the
// server inherits the orphans of exec'd probes.
func reapChildren() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

type result struct {
	At     string `json:"at"`
	Millis int64  `json:"ms"`
	Status int    `json:"status"`
	Body   string `json:"body,omitempty"`
	Error  string `json:"error,omitempty"`
}

func probe(prefix string, interval, timeout time.Duration) {
	host := os.Getenv(prefix + "_SERVICE_HOST")
	port := os.Getenv(prefix + "_SERVICE_PORT")
	if host == "" || port == "" {
		fmt.Fprintf(os.Stderr, "%s_SERVICE_HOST/PORT not set: was the Service created before this pod?\n", prefix)
		os.Exit(2)
	}
	url := fmt.Sprintf("http://%s:%s/", host, port)
	// One connection per request: keep-alive would pin the client to the
	// first endpoint it reached.
	client := &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	out := json.NewEncoder(os.Stdout)
	signal.Ignore(syscall.SIGCHLD)
	for {
		start := time.Now()
		r := result{At: start.UTC().Format(time.RFC3339Nano)}
		resp, err := client.Get(url)
		if err != nil {
			r.Error = err.Error()
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
			resp.Body.Close()
			r.Status, r.Body = resp.StatusCode, string(body)
		}
		r.Millis = time.Since(start).Milliseconds()
		_ = out.Encode(r)
		time.Sleep(interval)
	}
}
