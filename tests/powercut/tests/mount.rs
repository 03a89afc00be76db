//! The power-cut file system through the kernel: std file calls, mmap, locks, and cuts.
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use tessera_powercut::{env, PowerCutMount};

fn sync_dir(p: &std::path::Path) {
    File::open(p).unwrap().sync_all().unwrap();
}

#[test]
fn only_synced_state_survives_a_cut() {
    if !env::require_fuse("only_synced_state_survives_a_cut") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut fs = PowerCutMount::mount(tmp.path()).unwrap();
    let root = fs.path().to_path_buf();

    // A durable file: data fsynced, directory fsynced.
    let d = root.join("data");
    fs::create_dir(&d).unwrap();
    sync_dir(&root);
    let mut f = File::create(d.join("durable")).unwrap();
    f.write_all(b"kept").unwrap();
    f.sync_data().unwrap();
    sync_dir(&d);
    // Then more, unsynced, bytes; a synced file whose name is not; a rename not synced.
    f.write_all(b" lost").unwrap();
    drop(f);
    let mut g = File::create(d.join("nameless")).unwrap();
    g.write_all(b"x").unwrap();
    g.sync_all().unwrap();
    drop(g);
    fs::write(d.join("tmp"), b"new").unwrap();
    fs::rename(d.join("tmp"), d.join("durable")).unwrap();

    // Seen before the cut: the volatile state. mmap reads go through the page cache.
    let mapped = unsafe { memmap2::Mmap::map(&File::open(d.join("durable")).unwrap()).unwrap() };
    assert_eq!(&mapped[..], b"new");
    drop(mapped);

    let report = fs.cut_power(1, false).unwrap();
    assert!(report.inodes_lost >= 2, "{report:?}");
    let mut names: Vec<_> = fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["durable"]);
    let mut s = String::new();
    File::open(d.join("durable"))
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "kept");
    let mapped = unsafe { memmap2::Mmap::map(&File::open(d.join("durable")).unwrap()).unwrap() };
    assert_eq!(&mapped[..], b"kept");
    let stats = fs.stats();
    assert_eq!(stats.cuts, 1);
    assert!(stats.file_syncs >= 2 && stats.dir_syncs >= 2, "{stats:?}");
}

#[test]
fn positioned_writes_truncate_locks_and_remove_dir_all() {
    if !env::require_fuse("positioned_writes_truncate_locks_and_remove_dir_all") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut fs = PowerCutMount::mount(tmp.path()).unwrap();
    let root = fs.path().to_path_buf();
    let p = root.join("seg");
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&p)
        .unwrap();
    // A lock like fjall's: kept by the kernel for this mount.
    f.try_lock().unwrap();
    f.set_len(1 << 20).unwrap();
    f.write_at(b"header", 0).unwrap();
    f.write_at(b"frame", 4096 * 3 + 10).unwrap();
    f.sync_data().unwrap();
    sync_dir(&root);
    f.write_at(b"unsynced", 100).unwrap();
    let mut buf = [0u8; 5];
    f.read_exact_at(&mut buf, 4096 * 3 + 10).unwrap();
    assert_eq!(&buf, b"frame");
    f.unlock().unwrap();
    drop(f);
    // A directory tree removed (not synced), and statfs answering.
    fs::create_dir_all(root.join("t/a/b")).unwrap();
    for i in 0..50 {
        fs::write(root.join(format!("t/a/b/f{i}")), b"z").unwrap();
    }
    fs::remove_dir_all(root.join("t")).unwrap();
    assert!(!root.join("t").exists());

    fs.cut_power(2, false).unwrap();
    assert!(!root.join("t").exists(), "never synced: never durable");
    let f = File::open(&p).unwrap();
    assert_eq!(f.metadata().unwrap().len(), 1 << 20);
    let mut head = [0u8; 6];
    f.read_exact_at(&mut head, 0).unwrap();
    assert_eq!(&head, b"header");
    let mut at100 = [0u8; 8];
    f.read_exact_at(&mut at100, 100).unwrap();
    assert_eq!(at100, [0u8; 8]);
    // fjall's lock: a fresh mount has no lock held.
    f.try_lock().unwrap();
}
