#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// Builds a small BTF blob: `struct outer { int a; union { long b; int c; }; int d:3; }`.
fn sample_blob() -> Vec<u8> {
    let mut strings = b"\0int\0outer\0a\0b\0c\0d\0long\0".to_vec();
    let name = |s: &str, strings: &Vec<u8>| -> u32 {
        let needle = format!("\0{s}\0");
        strings
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .map(|p| p as u32 + 1)
            .unwrap()
    };
    let mut types = Vec::new();
    let mut push = |words: &[u32]| {
        for w in words {
            types.extend_from_slice(&w.to_le_bytes());
        }
    };
    // 1: int (kind 1) + 4 bytes of encoding.
    push(&[name("int", &strings), 1 << 24, 4, 32]);
    // 2: long
    push(&[name("long", &strings), 1 << 24, 8, 64]);
    // 3: anonymous union { long b; int c; }
    push(&[0, (5 << 24) | 2, 8]);
    push(&[name("b", &strings), 2, 0]);
    push(&[name("c", &strings), 1, 0]);
    // 4: struct outer, kind_flag set (bit fields), 3 members.
    push(&[name("outer", &strings), (1 << 31) | (4 << 24) | 3, 24]);
    push(&[name("a", &strings), 1, 0]);
    push(&[0, 3, 64]);
    push(&[name("d", &strings), 1, (3 << 24) | 128]);
    strings.push(0);

    let mut blob = Vec::new();
    blob.extend_from_slice(&MAGIC.to_le_bytes());
    blob.extend_from_slice(&[1, 0]);
    for w in [24u32, 0, types.len() as u32, types.len() as u32, strings.len() as u32] {
        blob.extend_from_slice(&w.to_le_bytes());
    }
    blob.extend_from_slice(&types);
    blob.extend_from_slice(&strings);
    blob
}

#[test]
fn finds_direct_and_anonymous_members() {
    let blob = sample_blob();
    let btf = Btf::parse(&blob).unwrap();
    assert_eq!(btf.member_offset("outer", "a"), Ok(0));
    assert_eq!(btf.member_offset("outer", "b"), Ok(8));
    assert_eq!(btf.member_offset("outer", "c"), Ok(8));
}

#[test]
fn reports_what_is_missing() {
    let blob = sample_blob();
    let btf = Btf::parse(&blob).unwrap();
    assert_eq!(
        btf.member_offset("outer", "zzz"),
        Err(BtfError::MemberNotFound { structure: "outer".into(), member: "zzz".into() })
    );
    assert_eq!(btf.member_offset("nope", "a"), Err(BtfError::StructNotFound("nope".into())));
    assert!(matches!(btf.member_offset("outer", "d"), Err(BtfError::BitField { .. })));
}

#[test]
fn rejects_malformed_blobs_without_panicking() {
    let blob = sample_blob();
    assert!(Btf::parse(&[]).is_err());
    assert!(Btf::parse(&[0x9f, 0xeb]).is_err());
    for cut in 0..blob.len() {
        let _ = Btf::parse(&blob[..cut]).map(|btf| btf.member_offset("outer", "b"));
    }
    let mut flipped = blob.clone();
    for i in 0..flipped.len() {
        flipped[i] ^= 0xff;
        let _ = Btf::parse(&flipped).map(|btf| btf.member_offset("outer", "b"));
        flipped[i] ^= 0xff;
    }
}

#[test]
fn resolves_every_offset_on_this_kernel() {
    let Ok(blob) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        eprintln!("skipped: /sys/kernel/btf/vmlinux is not readable here");
        return;
    };
    let offsets = kernel_offsets(&Btf::parse(&blob).unwrap()).unwrap();
    assert_eq!(offsets.valid, 1);
    // struct socket starts with state/type/flags before sk; files is deep in
    // task_struct: both must be non-zero on any real kernel.
    assert!(offsets.socket_sk > 0);
    assert!(offsets.task_files > 0);
    assert_ne!(offsets.tcp_bytes_received, offsets.tcp_bytes_acked);
}

#[test]
#[cfg(target_arch = "x86_64")]
fn syscall_arguments_are_where_the_x86_64_abi_puts_them() {
    let Ok(blob) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        eprintln!("skipped: /sys/kernel/btf/vmlinux is not readable here");
        return;
    };
    // struct pt_regs: r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di …
    assert_eq!(syscall_argument_offsets(&Btf::parse(&blob).unwrap()).unwrap(), Some((14 * 8, 13 * 8)));
}
