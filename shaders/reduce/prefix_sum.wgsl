// Exclusive prefix sum of u32 values (deterministic: integer adds), without
// workgroup barriers (costly on CPU adapters): each thread scans a run of
// RUN consecutive values in order.
// scan_runs: writes each run's exclusive scan to `scanned` and the run's
//   total to `run_sums`.
// add_run_offsets: after the run sums were scanned the same way (by the
//   host, recursively), adds each run's offset to its values.

struct ScanParams {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: ScanParams;
@group(0) @binding(1) var<storage, read> values: array<u32>;
@group(0) @binding(2) var<storage, read_write> scanned: array<u32>;
@group(0) @binding(3) var<storage, read_write> run_sums: array<u32>;

const RUN: u32 = 64u;

@compute @workgroup_size(256)
fn scan_runs(ids: Invocation) {
    let run = thread_index(ids);
    let first = run * RUN;
    if (first >= p.len) {
        return;
    }
    var sum = 0u;
    for (var i = first; i < min(first + RUN, p.len); i++) {
        let v = values[i];
        scanned[i] = sum;
        sum += v;
    }
    run_sums[run] = sum;
}

// `values` holds the scanned run sums here.
@compute @workgroup_size(256)
fn add_run_offsets(ids: Invocation) {
    let i = thread_index(ids);
    if (i < p.len) {
        scanned[i] += values[i / RUN];
    }
}
