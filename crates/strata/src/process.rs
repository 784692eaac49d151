//! This process as others see it in the state database: `host:pid`, the name a serve
//! worker leases jobs under and a cascade's driver holds its run under, and whether a
//! process named so on this machine is gone (so its run is taken over at once instead of
//! when its lease runs out).

use rustix::io::Errno;
use rustix::process::{Pid, test_kill_process};

/// This machine's name (`localhost` when the kernel does not say).
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// `host:pid` of this process.
pub fn name() -> String {
    format!("{}:{}", host(), std::process::id())
}

/// Whether `name` (`host:pid`, maybe with more after another `:`) is a process of this
/// machine that no longer runs: gone, or a zombie waiting for its parent. A name from
/// another machine, or one that does not parse, is never known to be gone.
pub fn is_gone_here(name: &str) -> bool {
    let mut parts = name.split(':');
    let (Some(host_part), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    if host_part != host() {
        return false;
    }
    let Some(pid) = pid.parse::<i32>().ok().and_then(Pid::from_raw) else {
        return false;
    };
    if pid.as_raw_nonzero().get() == i32::try_from(std::process::id()).unwrap_or(0) {
        return false;
    }
    match test_kill_process(pid) {
        Err(Errno::SRCH) => true,
        // Alive (or not ours to signal): unless it is a zombie, it still runs.
        _ => is_zombie(pid),
    }
}

/// Whether `/proc` shows `pid` as a zombie (state `Z`).
fn is_zombie(pid: Pid) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero())) else {
        return false;
    };
    // `pid (comm) S ...`: the state follows the last `)`, as comm may hold one.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state == "Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_not_gone() {
        assert!(!is_gone_here(&name()));
    }

    #[test]
    fn a_finished_child_is_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(is_gone_here(&format!("{}:{pid}", host())));
    }

    #[test]
    fn an_unreaped_child_is_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(is_gone_here(&format!("{}:{pid}:x", host())));
        child.wait().unwrap();
    }

    #[test]
    fn other_machines_and_nonsense_are_not_known_gone() {
        assert!(!is_gone_here("elsewhere.example:1"));
        assert!(!is_gone_here("nonsense"));
        assert!(!is_gone_here(&format!("{}:notapid", host())));
    }
}
