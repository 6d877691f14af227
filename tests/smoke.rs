use pixgrad::{Context, Tensor};

#[test]
fn smoke() {
    let ctx = Context::new().unwrap();
    eprintln!("{:?}", ctx.adapter_info());
    let a = Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let b = Tensor::from_slice(&ctx, &[10.0, 20.0], &[2, 1]).unwrap().with_grad();
    let c = a.mul(&b).unwrap();
    eprintln!("{:?}", c.to_vec().unwrap());
    let s = c.sum().unwrap();
    eprintln!("{:?}", s.to_vec().unwrap());
    let g = s.backward().unwrap();
    eprintln!("{:?}", g.get(&b).unwrap().to_vec().unwrap());
    let r = Tensor::rand_normal(&ctx, &[1 << 20], 0.0, 1.0, 3).unwrap();
    eprintln!("mean {:?} sq {:?}", r.mean().unwrap().item().unwrap(), r.square().unwrap().mean().unwrap().item().unwrap());
    eprintln!("{:?} {:?}", ctx.stats(), ctx.memory());
}
