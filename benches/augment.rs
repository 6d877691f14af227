//! Augmentation benchmark (#25): a Kornia-like chain — random resized crop
//! (scale 0.5–1, back to 512²), horizontal flip, affine (±15°, 10 % shifts,
//! scale 0.9–1.1), colour jitter (0.2, 0.2, 0.2, 0.05) and Gaussian blur
//! (5×5, σ 0.1–2) — on 512² RGB batches of 8 and 32, forward and
//! forward + backward (to the images), new parameters every call. Kornia's
//! `AugmentationSequential` on the same chain: `python
//! benches/kornia_reference.py augment_chain_b8,augment_chain_b32`.
//!
//! ```text
//! WGPU_BACKEND=vulkan cargo bench --bench augment
//! ```

mod support;

use std::cell::RefCell;

use criterion::{Criterion, criterion_group, criterion_main};
use pixgrad::augment::{
    ColorJitter, Generator, RandomAffine, RandomGaussianBlur, RandomHorizontalFlip, RandomResizedCrop, Sequential,
};
use pixgrad::{Context, Tensor};
use support::{configure, forward_and_backward};

fn chain(side: usize) -> Sequential {
    Sequential::new(vec![
        Box::new(RandomResizedCrop::new([side, side]).scale(0.5, 1.0)),
        Box::new(RandomHorizontalFlip::new(0.5)),
        Box::new(RandomAffine::new(15.0).translate(0.1, 0.1).scale(0.9, 1.1).p(1.0)),
        Box::new(ColorJitter::new(0.2, 0.2, 0.2, 0.05)),
        Box::new(RandomGaussianBlur::new([5, 5], (0.1, 2.0)).p(1.0)),
    ])
}

fn augment(c: &mut Criterion) {
    let ctx = Context::new().expect("a GPU adapter");
    eprintln!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);
    let mut group = c.benchmark_group("augment");
    configure(&mut group);
    let side = 512;
    let augmentations = chain(side);
    let rng = RefCell::new(Generator::new(1));
    for batch in [8, 32] {
        let img = Tensor::rand_uniform(&ctx, &[batch, 3, side, side], 0.0, 1.0, 1).unwrap();
        let op = |t: &[Tensor]| augmentations.forward(&t[0], &mut rng.borrow_mut()).map(|(out, _)| out);
        forward_and_backward(&mut group, &ctx, "chain", &format!("512x512_b{batch}"), &[img], op);
    }
    group.finish();
}

criterion_group!(benches, augment);
criterion_main!(benches);
