//! Host memory stays flat over many steps of every op family, forward and
//! backward, on the adapter in use. A driver that keeps something per call
//! (lavapipe in Mesa before 23.1 compiles and keeps a shader variant per
//! dispatch of a kernel whose uniforms it chooses to inline) shows up here
//! as resident-set growth per step. One test in this binary, so that no
//! other test moves the resident set while it measures.

mod support;

use support::ops::catalogue;
use support::*;

/// Resident set in KiB (Linux; 0 elsewhere, where the test cannot measure).
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0) * 4
}

/// Steps before measuring: pipelines compiled, pool and allocator filled.
const WARM_UP: usize = 40;
/// Steps of each of the three windows measured.
const WINDOW: usize = 60;
/// Growth allowed per step: 25 times below the ~200 KiB of a leaked shader
/// variant, above allocator noise (up to ~3 KiB/step seen on GL in all
/// three windows of one run; the soak example measures finer).
const MAX_KIB_PER_STEP: f64 = 8.0;

#[test]
fn every_op_family_runs_hundreds_of_steps_in_flat_host_memory() {
    let ctx = ctx();
    let img = pixgrad::Tensor::rand_uniform(&ctx, &[1, 3, 20, 24], 0.0, 1.0, 1).unwrap();
    let mut report = Vec::new();
    for case in catalogue() {
        let params: Vec<_> = (case.params)(&ctx, 1).into_iter().map(|p| p.with_grad()).collect();
        let x = img.detach().with_grad();
        let step = || {
            let out = (case.run)(&x, &params).unwrap();
            let grads = out.sum().unwrap().backward().unwrap();
            drop((out, grads));
        };
        for _ in 0..WARM_UP {
            step();
        }
        // A leak grows in every window; the allocator settling, in some only.
        let window = || {
            ctx.synchronize().unwrap();
            let before = rss_kib();
            for _ in 0..WINDOW {
                step();
            }
            ctx.synchronize().unwrap();
            (rss_kib() as f64 - before as f64) / WINDOW as f64
        };
        let per_step = window().min(window()).min(window());
        println!("{:<26} {per_step:+8.2} KiB/step", case.name);
        report.push((case.name, per_step));
    }
    let grown: Vec<_> = report.iter().filter(|(_, kib)| *kib > MAX_KIB_PER_STEP).collect();
    assert!(grown.is_empty(), "resident memory grows per step (limit {MAX_KIB_PER_STEP} KiB): {grown:?}");
}
