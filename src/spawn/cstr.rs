//! `CStrArray`: the NUL-terminated array of C strings that `execve` takes for `argv` and `envp`,
//! built without allocating.

use core::ffi::{CStr, c_char};
use core::marker::PhantomData;

use crate::errno::{Errno, Result};

/// A null-terminated array of pointers to NUL-terminated strings, borrowed for `'a`: the form
/// `execve` takes for `argv` and `envp`.
#[derive(Clone, Copy)]
pub struct CStrArray<'a> {
    ptr: *const *const c_char,
    _strings: PhantomData<&'a CStr>,
}

/// The one-element array `[NULL]`, for an empty `CStrArray`.
struct NullSlot(*const c_char);
// SAFETY: a null pointer, never written.
unsafe impl Sync for NullSlot {}
static EMPTY_SLOT: NullSlot = NullSlot(core::ptr::null());

impl<'a> CStrArray<'a> {
    /// The empty array (`[NULL]`).
    pub fn empty() -> CStrArray<'static> {
        CStrArray {
            ptr: &EMPTY_SLOT.0,
            _strings: PhantomData,
        }
    }

    /// Builds the array for `strings` in `storage`, which needs `strings.len() + 1` slots
    /// (`E2BIG` otherwise). No allocation.
    pub fn new(strings: &[&'a CStr], storage: &'a mut [*const c_char]) -> Result<CStrArray<'a>> {
        if storage.len() <= strings.len() {
            return Err(Errno::E2BIG);
        }
        for (slot, s) in storage.iter_mut().zip(strings) {
            *slot = s.as_ptr();
        }
        storage[strings.len()] = core::ptr::null();
        Ok(CStrArray {
            ptr: storage.as_ptr(),
            _strings: PhantomData,
        })
    }

    /// Wraps an existing array, such as the `argv` and `envp` a program starts with.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an array of valid NUL-terminated strings ended by a null pointer,
    /// all valid and unchanged for `'a`.
    pub const unsafe fn from_raw(ptr: *const *const c_char) -> CStrArray<'a> {
        CStrArray {
            ptr,
            _strings: PhantomData,
        }
    }

    /// The array as `execve` takes it.
    pub fn as_ptr(self) -> *const *const c_char {
        self.ptr
    }

    /// The strings, in order.
    pub fn iter(self) -> impl Iterator<Item = &'a CStr> {
        let mut at = self.ptr;
        core::iter::from_fn(move || {
            // SAFETY: the array is null-terminated (constructor contract) and `at` has not
            // passed the terminator.
            let p = unsafe { *at };
            if p.is_null() {
                return None;
            }
            // SAFETY: as above; the next slot exists because this one was not the terminator.
            at = unsafe { at.add(1) };
            // SAFETY: every non-null entry is a valid NUL-terminated string for 'a.
            Some(unsafe { CStr::from_ptr(p) })
        })
    }

    /// The number of strings.
    pub fn len(self) -> usize {
        self.iter().count()
    }

    /// Whether there is no string.
    pub fn is_empty(self) -> bool {
        self.iter().next().is_none()
    }

    /// For an environment array: the value of `name` (the bytes after `name=` of its first
    /// entry), if present.
    pub fn var(self, name: &[u8]) -> Option<&'a [u8]> {
        self.iter().find_map(|entry| {
            let entry = entry.to_bytes();
            match entry.strip_prefix(name) {
                Some([b'=', value @ ..]) => Some(value),
                _ => None,
            }
        })
    }
}

impl core::fmt::Debug for CStrArray<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
