// SPDX-License-Identifier: GPL-2.0-only
//! Host benchmarks of the MPU core (`make bench` reports them): classify, map of a
//! new region, map that bumps a refcount, modify, unmap, with 4, 16, 64 and 255
//! regions in use on a 255-region MPU. Timings are reported, never asserted.
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use rxen::mm::mpu::fake::FakeMpu;
use rxen::mm::mpu::{Attrs, Mpu, MpuTable};
use rxen::mm::PhysRange;

const PAGE: u64 = 0x1000;

/// An MPU with `n` one-page regions in use, at every other page from 0.
fn filled(n: u64) -> Mpu<FakeMpu> {
    let mut m = Mpu::new(MpuTable::new(255, 40), FakeMpu::new());
    for i in 0..n {
        m.map(
            PhysRange::new(2 * i * PAGE, (2 * i + 1) * PAGE),
            Attrs::DATA,
        )
        .unwrap();
    }
    m
}

fn last(n: u64) -> PhysRange {
    PhysRange::new(2 * (n - 1) * PAGE, (2 * n - 1) * PAGE)
}

fn bench(c: &mut Criterion) {
    for n in [4u64, 16, 64, 255] {
        let full = filled(n);
        let one_less = filled(n - 1);
        let miss = PhysRange::new(0x1000_0000, 0x1000_1000);
        let mut g = c.benchmark_group("mpu");
        g.bench_with_input(BenchmarkId::new("classify", n), &n, |b, _| {
            b.iter(|| full.classify(std::hint::black_box(miss)))
        });
        g.bench_with_input(BenchmarkId::new("map_new", n), &n, |b, &n| {
            b.iter_batched_ref(
                || one_less.clone_for_bench(),
                |m| m.map(last(n), Attrs::DATA),
                BatchSize::SmallInput,
            )
        });
        g.bench_with_input(BenchmarkId::new("map_refcount", n), &n, |b, &n| {
            b.iter_batched_ref(
                || full.clone_for_bench(),
                |m| m.map(last(n), Attrs::DATA),
                BatchSize::SmallInput,
            )
        });
        g.bench_with_input(BenchmarkId::new("modify", n), &n, |b, &n| {
            b.iter_batched_ref(
                || full.clone_for_bench(),
                |m| m.modify(last(n), Attrs::RODATA),
                BatchSize::SmallInput,
            )
        });
        g.bench_with_input(BenchmarkId::new("unmap", n), &n, |b, &n| {
            b.iter_batched_ref(
                || full.clone_for_bench(),
                |m| m.unmap(last(n)),
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

/// Cloning a table is only needed by benchmarks.
trait CloneForBench {
    fn clone_for_bench(&self) -> Self;
}

impl CloneForBench for Mpu<FakeMpu> {
    fn clone_for_bench(&self) -> Self {
        let mut hw = self.hw().clone();
        hw.log.clear();
        Mpu::new(self.table().clone(), hw)
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
