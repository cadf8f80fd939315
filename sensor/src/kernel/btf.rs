//! Kernel structure offsets from the running kernel's BTF
//! (`/sys/kernel/btf/vmlinux`).
//!
//! The kernel programs follow a few pointers (`task_struct → files → fdtable
//! → file → socket → sock`) and read two `tcp_sock` counters. The toolchain
//! gives Rust eBPF programs no CO-RE relocations, so the sensor resolves each
//! offset here and hands them to the programs in a global. The scanner reads
//! only what it needs from the BTF blob (a few MiB) without building a type
//! graph, so start-up stays fast and memory stays flat.

use sensor_common::KernelOffsets;

/// Why an offset could not be resolved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BtfError {
    #[error("not a BTF blob: {0}")]
    Malformed(&'static str),
    #[error("struct {0} not found in the kernel's BTF")]
    StructNotFound(String),
    #[error("struct {structure} has no member {member}")]
    MemberNotFound { structure: String, member: String },
    #[error("member {structure}.{member} is a bit field")]
    BitField { structure: String, member: String },
}

const MAGIC: u16 = 0xEB9F;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;

/// A parsed view of a BTF blob: the type section indexed by type id.
pub struct Btf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    /// Byte position in `types` of each type record; index 0 is type id 1.
    starts: Vec<u32>,
}

#[derive(Clone, Copy)]
struct TypeRecord<'a> {
    name_off: u32,
    kind: u32,
    vlen: u32,
    kind_flag: bool,
    /// Bytes following the common 12-byte header.
    extra: &'a [u8],
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let chunk = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
}

impl<'a> Btf<'a> {
    /// Indexes a BTF blob. Only little-endian BTF is supported (every
    /// architecture the sensor targets).
    pub fn parse(blob: &'a [u8]) -> Result<Self, BtfError> {
        let magic = blob
            .get(0..2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or(BtfError::Malformed("shorter than its header"))?;
        if magic != MAGIC {
            return Err(BtfError::Malformed("bad magic (or big-endian BTF)"));
        }
        let header = |at| u32_at(blob, at).ok_or(BtfError::Malformed("truncated header"));
        let header_len = header(4)? as usize;
        let (type_off, type_len) = (header(8)? as usize, header(12)? as usize);
        let (str_off, str_len) = (header(16)? as usize, header(20)? as usize);
        let section = |off: usize, len: usize| {
            let start = header_len.checked_add(off)?;
            blob.get(start..start.checked_add(len)?)
        };
        let types = section(type_off, type_len).ok_or(BtfError::Malformed("type section out of bounds"))?;
        let strings = section(str_off, str_len).ok_or(BtfError::Malformed("string section out of bounds"))?;

        let mut starts = Vec::new();
        let mut at = 0usize;
        while at < types.len() {
            let info = u32_at(types, at + 4).ok_or(BtfError::Malformed("truncated type record"))?;
            let vlen = (info & 0xffff) as usize;
            let kind = (info >> 24) & 0x1f;
            let extra = match kind {
                1 | 14 | 17 => 4,                // INT, VAR, DECL_TAG
                3 => 12,                         // ARRAY
                4 | 5 | 15 | 19 => 12 * vlen,    // STRUCT, UNION, DATASEC, ENUM64
                6 | 13 => 8 * vlen,              // ENUM, FUNC_PROTO
                2 | 7..=12 | 16 | 18 => 0,       // PTR, FWD, TYPEDEF, qualifiers, FUNC, FLOAT, TYPE_TAG
                _ => return Err(BtfError::Malformed("unknown type kind")),
            };
            starts.push(u32::try_from(at).map_err(|_| BtfError::Malformed("type section too large"))?);
            at = at
                .checked_add(12 + extra)
                .ok_or(BtfError::Malformed("type record overflows"))?;
        }
        if at != types.len() {
            return Err(BtfError::Malformed("type records overrun the section"));
        }
        Ok(Self { types, strings, starts })
    }

    fn record(&self, id: u32) -> Option<TypeRecord<'a>> {
        let start = *self.starts.get(usize::try_from(id).ok()?.checked_sub(1)?)? as usize;
        let info = u32_at(self.types, start + 4)?;
        let vlen = info & 0xffff;
        let kind = (info >> 24) & 0x1f;
        let len = match kind {
            KIND_STRUCT | KIND_UNION => 12 * vlen as usize,
            _ => 0,
        };
        Some(TypeRecord {
            name_off: u32_at(self.types, start)?,
            kind,
            vlen,
            kind_flag: info >> 31 == 1,
            extra: self.types.get(start + 12..start + 12 + len)?,
        })
    }

    fn name(&self, offset: u32) -> &'a [u8] {
        let rest = self.strings.get(offset as usize..).unwrap_or(&[]);
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        &rest[..end]
    }

    /// Byte offset of `member` in `struct structure`, looking through
    /// anonymous struct and union members.
    pub fn member_offset(&self, structure: &str, member: &str) -> Result<u64, BtfError> {
        let id = (1..=self.starts.len() as u32)
            .find(|&id| {
                self.record(id).is_some_and(|r| {
                    r.kind == KIND_STRUCT && r.vlen > 0 && self.name(r.name_off) == structure.as_bytes()
                })
            })
            .ok_or_else(|| BtfError::StructNotFound(structure.to_owned()))?;
        match self.find_member(id, member.as_bytes(), 0) {
            Some(Ok(bits)) => Ok(bits / 8),
            Some(Err(())) => Err(BtfError::BitField {
                structure: structure.to_owned(),
                member: member.to_owned(),
            }),
            None => Err(BtfError::MemberNotFound {
                structure: structure.to_owned(),
                member: member.to_owned(),
            }),
        }
    }

    /// Bit offset of `member` in composite type `id`; `Err` for bit fields.
    fn find_member(&self, id: u32, member: &[u8], depth: u32) -> Option<Result<u64, ()>> {
        if depth > 8 {
            return None;
        }
        let record = self.record(id)?;
        if record.kind != KIND_STRUCT && record.kind != KIND_UNION {
            return None;
        }
        for entry in record.extra.chunks_exact(12) {
            let name_off = u32_at(entry, 0)?;
            let member_type = u32_at(entry, 4)?;
            let raw_offset = u32_at(entry, 8)?;
            let (bit_offset, bit_size) = if record.kind_flag {
                (u64::from(raw_offset & 0x00ff_ffff), raw_offset >> 24)
            } else {
                (u64::from(raw_offset), 0)
            };
            if name_off == 0 {
                // Anonymous struct or union: its members belong to us.
                if let Some(found) = self.find_member(member_type, member, depth + 1) {
                    return Some(found.map(|inner| bit_offset + inner));
                }
            } else if self.name(name_off) == member {
                if bit_size != 0 || bit_offset % 8 != 0 {
                    return Some(Err(()));
                }
                return Some(Ok(bit_offset));
            }
        }
        None
    }
}

/// Every offset the kernel programs need, resolved from the kernel's BTF.
pub fn kernel_offsets(btf: &Btf<'_>) -> Result<KernelOffsets, BtfError> {
    Ok(KernelOffsets {
        valid: 1,
        task_files: btf.member_offset("task_struct", "files")?,
        files_fdt: btf.member_offset("files_struct", "fdt")?,
        fdtable_fd: btf.member_offset("fdtable", "fd")?,
        fdtable_max_fds: btf.member_offset("fdtable", "max_fds")?,
        file_private_data: btf.member_offset("file", "private_data")?,
        socket_sk: btf.member_offset("socket", "sk")?,
        tcp_bytes_received: btf.member_offset("tcp_sock", "bytes_received")?,
        tcp_bytes_acked: btf.member_offset("tcp_sock", "bytes_acked")?,
        task_mm: btf.member_offset("task_struct", "mm")?,
        mm_arg_start: btf.member_offset("mm_struct", "arg_start")?,
        mm_arg_end: btf.member_offset("mm_struct", "arg_end")?,
    })
}

/// Offsets in `struct pt_regs` of a syscall's first and second arguments as
/// they stand at syscall exit, on the architecture the sensor runs on.
///
/// x86_64 keeps every argument register (`di`, `si`) untouched through the
/// syscall; arm64 overwrites `x0` with the return value and keeps the first
/// argument in `orig_x0`. Other architectures: `None`, and the receive
/// programs take their arguments at syscall entry instead.
pub fn syscall_argument_offsets(btf: &Btf<'_>) -> Result<Option<(u64, u64)>, BtfError> {
    if cfg!(target_arch = "x86_64") {
        Ok(Some((btf.member_offset("pt_regs", "di")?, btf.member_offset("pt_regs", "si")?)))
    } else if cfg!(target_arch = "aarch64") {
        Ok(Some((btf.member_offset("pt_regs", "orig_x0")?, btf.member_offset("pt_regs", "regs")? + 8)))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
#[path = "btf_tests.rs"]
mod tests;
