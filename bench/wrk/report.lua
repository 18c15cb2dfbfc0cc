-- The summary line bench/load.py reads; loaded by each wrk script.
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT requests=%d errors=%d non2xx=%d p50=%.3f p99=%.3f seconds=%.3f\n",
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.duration / 1e6))
end
