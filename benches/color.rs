//! Colour benchmarks: forward and forward + backward (image and factor
//! gradients) of rgb_to_hsv, rgb_to_lab, adjust_saturation then adjust_hue,
//! color_matrix, CIEDE2000 between two images, the soft histogram,
//! equalize and CLAHE (256 bins, one-bin bandwidth; CLAHE clip 40, 8×8
//! tiles) on RGB images: 512² and 1024² at batch 1, 512² at batch 8.
//!
//! ```text
//! WGPU_BACKEND=vulkan cargo bench --bench color
//! ```

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use pixgrad::ops::histogram::{ClaheOptions, HistogramOptions};
use pixgrad::{Context, DeltaE, Result, Tensor};
use support::{configure, forward_and_backward, selected};

const CASES: [(&str, usize, usize); 3] = [("512x512_b1", 1, 512), ("1024x1024_b1", 1, 1024), ("512x512_b8", 8, 512)];

type Op = Box<dyn Fn(&[Tensor]) -> Result<Tensor>>;

fn colors(c: &mut Criterion) {
    let ctx = Context::new().expect("a GPU adapter");
    eprintln!("adapter: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend);
    let mut group = c.benchmark_group("color");
    configure(&mut group);
    for (label, n, side) in CASES {
        let img = Tensor::rand_uniform(&ctx, &[n, 3, side, side], 0.0, 1.0, 1).unwrap();
        let other = Tensor::rand_uniform(&ctx, &[n, 3, side, side], 0.0, 1.0, 3).unwrap();
        let ops: [(&str, Vec<Tensor>, Op); 8] = [
            ("rgb_to_hsv", vec![img.clone()], Box::new(|t| t[0].rgb_to_hsv())),
            ("rgb_to_lab", vec![img.clone()], Box::new(|t| t[0].rgb_to_lab())),
            (
                "saturation_then_hue",
                vec![img.clone(), Tensor::full(&ctx, &[n], 1.3).unwrap(), Tensor::full(&ctx, &[n], 0.4).unwrap()],
                Box::new(|t| t[0].adjust_saturation(&t[1])?.adjust_hue(&t[2])),
            ),
            (
                "color_matrix",
                vec![
                    img.clone(),
                    Tensor::rand_normal(&ctx, &[n, 3, 3], 0.3, 0.1, 2).unwrap(),
                    Tensor::zeros(&ctx, &[n, 3]).unwrap(),
                ],
                Box::new(|t| t[0].color_matrix(&t[1], &t[2])),
            ),
            ("delta_e_2000", vec![img.clone(), other], Box::new(|t| t[0].delta_e(&t[1], DeltaE::Ciede2000))),
            ("histogram", vec![img.clone()], Box::new(|t| t[0].histogram(&HistogramOptions::default(), None))),
            ("equalize", vec![img.clone()], Box::new(|t| t[0].equalize(&HistogramOptions::default()))),
            ("clahe", vec![img.clone()], Box::new(|t| t[0].equalize_clahe(&ClaheOptions::default()))),
        ];
        for (name, inputs, op) in &ops {
            if selected(name) {
                forward_and_backward(&mut group, &ctx, name, label, inputs, op);
            }
        }
    }
    group.finish();
}

criterion_group!(benches, colors);
criterion_main!(benches);
