package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Client is an HTTP client for a load of concurrency requests in flight:
// keep-alive connections, as many idle ones kept as are in flight (the
// default of 2 would close and redial connections under load).
func Client(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        concurrency * 2,
		MaxIdleConnsPerHost: concurrency * 2,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// Result is one closed-loop load run.
type Result struct {
	// Requests answered 200, and Failures (errors or other statuses).
	Requests, Failures int
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// Latencies are the durations of the answered requests, sorted.
	Latencies []time.Duration
	// FirstFailure describes the first failure, if any.
	FirstFailure string
}

// Throughput is answered requests per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Quantile is the q-quantile latency (nearest rank), 0 without requests.
func (r Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.Latencies))+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Load posts req to baseURL+req.Path n times with concurrency requests in
// flight (each worker sends its next request when the previous one is
// answered), or until ctx ends when n < 0. Every request's duration is kept.
func Load(ctx context.Context, client *http.Client, baseURL string, req Request, n, concurrency int) Result {
	url := baseURL + req.Path
	var (
		next     atomic.Int64
		mu       sync.Mutex
		res      Result
		wg       sync.WaitGroup
		fixed    []time.Duration
		perRoute = make([][]time.Duration, concurrency)
	)
	if n >= 0 {
		fixed = make([]time.Duration, n)
	}
	fail := func(msg string) {
		mu.Lock()
		if res.Failures == 0 {
			res.FirstFailure = msg
		}
		res.Failures++
		mu.Unlock()
	}
	start := time.Now()
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if n >= 0 && i >= n {
					return
				}
				t0 := time.Now()
				status, err := post(ctx, client, url, req)
				d := time.Since(t0)
				switch {
				case err != nil:
					if ctx.Err() == nil {
						fail(err.Error())
					}
					continue
				case status != http.StatusOK:
					fail(fmt.Sprintf("status %d", status))
					continue
				}
				if n >= 0 {
					fixed[i] = d
				} else {
					perRoute[w] = append(perRoute[w], d)
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if n >= 0 {
		res.Latencies = fixed
		if res.Failures > 0 {
			res.Latencies = slices.DeleteFunc(fixed, func(d time.Duration) bool { return d == 0 })
		}
	} else {
		res.Latencies = slices.Concat(perRoute...)
	}
	res.Requests = len(res.Latencies)
	slices.Sort(res.Latencies)
	return res
}

func post(ctx context.Context, client *http.Client, url string, req Request) (int, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req.Body))
	if err != nil {
		return 0, err
	}
	for k, v := range req.Header {
		r.Header[k] = v
	}
	resp, err := client.Do(r)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

// Report adds the run's throughput and p50/p99 latency to b's figures and
// fails b when a request failed.
func Report(b *testing.B, r Result) {
	b.Helper()
	if r.Failures > 0 {
		b.Fatalf("%d of %d requests failed; first: %s", r.Failures, r.Failures+r.Requests, r.FirstFailure)
	}
	b.ReportMetric(r.Throughput(), "inv/s")
	b.ReportMetric(float64(r.Quantile(0.50).Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(r.Quantile(0.99).Nanoseconds())/1e3, "p99-µs")
}
