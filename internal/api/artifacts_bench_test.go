package api

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/artifact"
	"github.com/mltrack/mltrack/internal/artifact/artifacttest"
)

// BenchmarkArtifactProxyStream streams one generated file up (PUT) and down
// (GET) through the proxy over real HTTP, into the local folder and into
// versitygw, and reports throughput and memory: the peak Go heap in use
// while streaming and the process's peak RSS (VmHWM, client and server share
// the process). The size is MLTRACK_BENCH_ARTIFACT_BYTES (default 64 MiB):
//
//	MLTRACK_BENCH_ARTIFACT_BYTES=2147483648 go test ./internal/api -run '^$' -bench ArtifactProxyStream/local -benchtime 1x
func BenchmarkArtifactProxyStream(b *testing.B) {
	size := int64(64 << 20)
	if v := os.Getenv("MLTRACK_BENCH_ARTIFACT_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("MLTRACK_BENCH_ARTIFACT_BYTES=%q: want a positive byte count", v)
		}
		size = n
	}
	b.Run("local", func(b *testing.B) {
		repo, err := artifact.NewLocal(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer repo.Close()
		benchStream(b, repo, size)
	})
	b.Run("s3", func(b *testing.B) {
		srv := artifacttest.StartVersityGW(b)
		benchStream(b, srv.NewS3Repo(b, "bench"), size)
	})
}

func benchStream(b *testing.B, repo artifact.Repository, size int64) {
	mux := http.NewServeMux()
	RegisterArtifactProxy(mux, repo, ArtifactProxyOptions{})
	srv := httptest.NewServer(GuardArtifactPaths(mux))
	defer srv.Close()
	url := srv.URL + "/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/checkpoint.bin"
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}

	runtime.GC()
	stop := make(chan struct{})
	var peakHeap atomic.Uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})

	var upTime, downTime time.Duration
	b.SetBytes(2 * size)
	b.ResetTimer()
	for range b.N {
		sum := crc32.NewIEEE()
		body := io.TeeReader(newPattern(size), sum)
		req, err := http.NewRequest(http.MethodPut, url, body)
		if err != nil {
			b.Fatal(err)
		}
		req.ContentLength = size
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("PUT: %s", resp.Status)
		}
		upTime += time.Since(start)

		start = time.Now()
		resp, err = client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		got := crc32.NewIEEE()
		n, err := io.Copy(got, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || n != size || got.Sum32() != sum.Sum32() {
			b.Fatalf("GET: %s, %d of %d bytes, same content: %v, %v", resp.Status, n, size, got.Sum32() == sum.Sum32(), err)
		}
		downTime += time.Since(start)
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	mb := float64(size) * float64(b.N) / 1e6
	b.ReportMetric(mb/upTime.Seconds(), "up-MB/s")
	b.ReportMetric(mb/downTime.Seconds(), "down-MB/s")
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MiB")
	if hwm, err := vmHWM(); err == nil {
		b.ReportMetric(float64(hwm)/(1<<20), "VmHWM-MiB")
	}
}

// pattern yields n bytes cycling through a random 1 MiB block, generated
// faster than any store can take them.
type pattern struct {
	block []byte
	off   int
	left  int64
}

func newPattern(n int64) *pattern {
	block := make([]byte, 1<<20)
	r := rand.NewChaCha8([32]byte{42})
	_, _ = r.Read(block)
	return &pattern{block: block, left: n}
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n := copy(b, p.block[p.off:])
	p.off = (p.off + n) % len(p.block)
	p.left -= int64(n)
	return n, nil
}

// vmHWM is the process's peak resident set size in bytes (Linux).
func vmHWM() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
