#![no_std]
#![no_main]
xenguest::guest_main!(main);
fn main(_b: &xenguest::Boot) -> ! { xenguest::hypercall::park() }
