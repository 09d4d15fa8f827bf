//! How the process hands memory back to the operating system (glibc). By default glibc raises its thresholds
//! after the first large blocks are freed: later large blocks then come from its arenas instead of mmap, and an
//! arena keeps the free space at its end. After a burst of work — a 20 MB keyword import — the process would
//! hold most of its peak for good (measured with scripts/bench-import-memory). Fixed thresholds keep large
//! blocks on mmap (returned when freed) and let the arenas shrink; `give_back` returns what is left free.

/// Blocks of at least this size are mapped on their own and unmapped when freed (glibc's initial default,
/// kept instead of growing).
const MMAP_THRESHOLD: i32 = 128 * 1024;
/// Free space beyond this at the end of an arena is returned at once.
const TRIM_THRESHOLD: i32 = 128 * 1024;

/// Call once at start (the thresholds are process-wide).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes plain integers and only changes the allocator's thresholds.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

/// Returns free memory inside the arenas to the operating system; worth it after a large piece of work.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and is thread-safe; it only releases free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}
