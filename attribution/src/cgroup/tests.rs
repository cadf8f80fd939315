#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const ID: &str = "4f3b9c1a7e2d5f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
const ID2: &str = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29180716f5e4d3c2b1a09f8e7d6c5b";
const UID: &str = "0f8a2b1c-3d4e-4f50-9a6b-7c8d9e0f1a2b";
const UID_UNDERSCORES: &str = "0f8a2b1c_3d4e_4f50_9a6b_7c8d9e0f1a2b";

fn container(runtime: Runtime, pod: Option<&str>, qos: Option<QosClass>) -> CgroupIdentity {
    CgroupIdentity {
        runtime: Some(runtime),
        container_id: Some(ID.to_owned()),
        pod_uid: pod.map(str::to_owned),
        qos_class: qos,
        systemd_unit: None,
    }
}

#[test]
fn containerd_cgroupfs_v1_besteffort() {
    let content = format!(
        "12:pids:/kubepods/besteffort/pod{UID}/{ID}\n\
         11:memory:/kubepods/besteffort/pod{UID}/{ID}\n\
         4:cpu,cpuacct:/kubepods/besteffort/pod{UID}/{ID}\n\
         1:name=systemd:/kubepods/besteffort/pod{UID}/{ID}\n\
         0::/\n"
    );
    assert_eq!(
        parse_proc_cgroup(&content),
        container(Runtime::Unknown, Some(UID), Some(QosClass::BestEffort))
    );
}

#[test]
fn cgroupfs_guaranteed_pod_sits_under_kubepods() {
    assert_eq!(
        parse_cgroup_path(&format!("/kubepods/pod{UID}/{ID}")),
        container(Runtime::Unknown, Some(UID), Some(QosClass::Guaranteed))
    );
}

#[test]
fn containerd_systemd_v2_burstable() {
    let content = format!(
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_UNDERSCORES}.slice/cri-containerd-{ID}.scope\n"
    );
    assert_eq!(
        parse_proc_cgroup(&content),
        container(Runtime::Containerd, Some(UID), Some(QosClass::Burstable))
    );
}

#[test]
fn containerd_systemd_guaranteed() {
    assert_eq!(
        parse_cgroup_path(&format!(
            "/kubepods.slice/kubepods-pod{UID_UNDERSCORES}.slice/cri-containerd-{ID}.scope"
        )),
        container(Runtime::Containerd, Some(UID), Some(QosClass::Guaranteed))
    );
}

#[test]
fn containerd_systemd_v1_colon_form() {
    let content = format!(
        "10:memory:/system.slice/containerd.service/kubepods-besteffort-pod{UID_UNDERSCORES}.slice:cri-containerd:{ID}\n\
         1:name=systemd:/system.slice/containerd.service/kubepods-besteffort-pod{UID_UNDERSCORES}.slice:cri-containerd:{ID}\n"
    );
    assert_eq!(
        parse_proc_cgroup(&content),
        container(Runtime::Containerd, Some(UID), Some(QosClass::BestEffort))
    );
}

#[test]
fn crio_systemd_v2() {
    assert_eq!(
        parse_cgroup_path(&format!(
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_UNDERSCORES}.slice/crio-{ID}.scope"
        )),
        container(Runtime::CriO, Some(UID), Some(QosClass::BestEffort))
    );
}

#[test]
fn crio_with_crun_subgroup() {
    assert_eq!(
        parse_cgroup_path(&format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_UNDERSCORES}.slice/crio-{ID}.scope/container"
        )),
        container(Runtime::CriO, Some(UID), Some(QosClass::Burstable))
    );
}

#[test]
fn crio_cgroupfs() {
    assert_eq!(
        parse_cgroup_path(&format!("/kubepods/burstable/pod{UID}/crio-{ID}")),
        container(Runtime::CriO, Some(UID), Some(QosClass::Burstable))
    );
}

#[test]
fn crio_conmon_belongs_to_the_pod_not_the_container() {
    let identity = parse_cgroup_path(&format!(
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_UNDERSCORES}.slice/crio-conmon-{ID}.scope"
    ));
    assert_eq!(identity.container_id, None);
    assert_eq!(identity.pod_uid.as_deref(), Some(UID));
    assert_eq!(identity.systemd_unit, None);
}

#[test]
fn cri_dockerd_systemd_v1() {
    let content = format!(
        "5:devices:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_UNDERSCORES}.slice/docker-{ID}.scope\n"
    );
    assert_eq!(
        parse_proc_cgroup(&content),
        container(Runtime::Docker, Some(UID), Some(QosClass::Burstable))
    );
}

#[test]
fn docker_cgroupfs_v1() {
    let content =
        format!("12:blkio:/docker/{ID}\n11:memory:/docker/{ID}\n1:name=systemd:/docker/{ID}\n");
    assert_eq!(
        parse_proc_cgroup(&content),
        container(Runtime::Docker, None, None)
    );
}

#[test]
fn docker_systemd_v2() {
    assert_eq!(
        parse_proc_cgroup(&format!("0::/system.slice/docker-{ID}.scope\n")),
        container(Runtime::Docker, None, None)
    );
}

#[test]
fn podman_rootless_and_cgroupfs() {
    assert_eq!(
        parse_cgroup_path(&format!(
            "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope/container"
        )),
        container(Runtime::Podman, None, None)
    );
    assert_eq!(
        parse_cgroup_path(&format!("/machine.slice/libpod-{ID}.scope")),
        container(Runtime::Podman, None, None)
    );
    assert_eq!(
        parse_cgroup_path(&format!("/libpod_parent/{ID}")),
        container(Runtime::Podman, None, None)
    );
    let conmon = parse_cgroup_path(&format!("/machine.slice/libpod-conmon-{ID}.scope"));
    assert_eq!(conmon.container_id, None);
    assert_eq!(
        conmon.systemd_unit.as_deref(),
        Some(format!("libpod-conmon-{ID}.scope").as_str())
    );
}

#[test]
fn kind_node_seen_from_the_host_gives_the_innermost_container() {
    let path = format!(
        "/system.slice/docker-{ID2}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{UID_UNDERSCORES}.slice/cri-containerd-{ID}.scope"
    );
    assert_eq!(
        parse_cgroup_path(&path),
        container(Runtime::Containerd, Some(UID), Some(QosClass::BestEffort))
    );
}

#[test]
fn kind_pod_cgroup_itself_is_not_the_node_container() {
    let path = format!(
        "/system.slice/docker-{ID2}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod{UID_UNDERSCORES}.slice"
    );
    let identity = parse_cgroup_path(&path);
    assert_eq!(identity.container_id, None);
    assert_eq!(identity.runtime, None);
    assert_eq!(identity.pod_uid.as_deref(), Some(UID));
    assert_eq!(identity.qos_class, Some(QosClass::Burstable));
}

#[test]
fn k3d_cgroupfs_nesting() {
    assert_eq!(
        parse_cgroup_path(&format!("/docker/{ID2}/kubepods/besteffort/pod{UID}/{ID}")),
        container(Runtime::Unknown, Some(UID), Some(QosClass::BestEffort))
    );
}

#[test]
fn kind_cgroupfs_with_kubelet_root() {
    assert_eq!(
        parse_cgroup_path(&format!("/kubelet/kubepods/burstable/pod{UID}/{ID}")),
        container(Runtime::Unknown, Some(UID), Some(QosClass::Burstable))
    );
}

#[test]
fn reader_in_its_own_cgroup_namespace_sees_dot_dot_paths() {
    let content = format!(
        "0::/../../kubepods-besteffort-pod{UID_UNDERSCORES}.slice/cri-containerd-{ID}.scope\n"
    );
    assert_eq!(
        parse_proc_cgroup(&content),
        container(Runtime::Containerd, Some(UID), Some(QosClass::BestEffort))
    );
}

#[test]
fn static_pod_hash_is_kept() {
    let hash = "6f1a8b6f3b5c4a9e8d7c6b5a4f3e2d1c";
    let identity = parse_cgroup_path(&format!("/kubepods/burstable/pod{hash}/{ID}"));
    assert_eq!(identity.pod_uid.as_deref(), Some(hash));
    assert_eq!(identity.container_id.as_deref(), Some(ID));
}

#[test]
fn pause_or_pod_level_process_has_a_pod_but_no_container() {
    let identity = parse_cgroup_path(&format!(
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_UNDERSCORES}.slice"
    ));
    assert_eq!(identity.pod_uid.as_deref(), Some(UID));
    assert_eq!(identity.container_id, None);
    assert_eq!(identity.systemd_unit, None);
}

#[test]
fn host_services_and_sessions() {
    assert_eq!(
        parse_proc_cgroup("0::/system.slice/nginx.service\n"),
        CgroupIdentity {
            systemd_unit: Some("nginx.service".to_owned()),
            ..Default::default()
        }
    );
    assert_eq!(
        parse_cgroup_path("/user.slice/user-1000.slice/session-2.scope")
            .systemd_unit
            .as_deref(),
        Some("session-2.scope")
    );
    assert_eq!(
        parse_cgroup_path(
            "/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1234.scope"
        )
        .systemd_unit
        .as_deref(),
        Some("app-firefox-1234.scope")
    );
    assert_eq!(
        parse_cgroup_path("/init.scope").systemd_unit.as_deref(),
        Some("init.scope")
    );
    // The container runtime itself is a host service.
    assert_eq!(
        parse_cgroup_path("/system.slice/containerd.service")
            .systemd_unit
            .as_deref(),
        Some("containerd.service")
    );
}

#[test]
fn hybrid_v1_prefers_the_line_that_names_a_container() {
    let content = format!(
        "12:cpuset:/\n\
         3:memory:/system.slice/docker-{ID}.scope\n\
         1:name=systemd:/system.slice/docker-{ID}.scope\n\
         0::/system.slice/docker-{ID}.scope\n"
    );
    assert_eq!(
        parse_proc_cgroup(&content),
        container(Runtime::Docker, None, None)
    );
}

#[test]
fn root_and_unknown_layouts_give_nothing() {
    assert_eq!(parse_proc_cgroup("0::/\n"), CgroupIdentity::default());
    assert_eq!(parse_cgroup_path(""), CgroupIdentity::default());
    assert_eq!(
        parse_cgroup_path("/some/thing/else"),
        CgroupIdentity::default()
    );
    // IDs of the wrong length or with upper case are not container IDs.
    assert_eq!(
        parse_cgroup_path(&format!("/docker/{}", &ID[..63])),
        CgroupIdentity::default()
    );
    assert_eq!(
        parse_cgroup_path(&format!("/docker/{}", ID.to_ascii_uppercase())),
        CgroupIdentity::default()
    );
    // A malformed pod UID is not a pod.
    assert_eq!(
        parse_cgroup_path("/kubepods/besteffort/podnot-a-uid").pod_uid,
        None
    );
}

#[test]
fn malformed_input_never_panics() {
    let long = "/".repeat(10_000);
    let inputs = [
        "",
        ":",
        "::",
        "0:",
        "garbage without colons",
        "\n\n\n",
        "0::/kubepods.slice/kubepods-pod.slice",
        "0::/kubepods.slice/kubepods-pod\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}.slice",
        "0::/pod\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
        "0::/a:b:c/d:cri-containerd:e",
        ".scope",
        "/.service",
        long.as_str(),
    ];
    for input in inputs {
        let _ = parse_proc_cgroup(input);
        let _ = parse_cgroup_path(input);
    }
    // Every prefix of real content, cut at any character boundary.
    let content = format!(
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_UNDERSCORES}.slice/cri-containerd-{ID}.scope\n"
    );
    for (index, _) in content.char_indices() {
        let _ = parse_proc_cgroup(&content[..index]);
    }
}

#[test]
fn reads_proc_files() {
    let dir = std::env::temp_dir().join(format!("attribution-proc-{}", std::process::id()));
    let pid_dir = dir.join("4242");
    std::fs::create_dir_all(&pid_dir).unwrap();
    std::fs::write(
        pid_dir.join("cgroup"),
        format!("0::/system.slice/docker-{ID}.scope\n"),
    )
    .unwrap();
    let identity = read_proc_cgroup(&dir, 4242).unwrap();
    assert_eq!(identity, container(Runtime::Docker, None, None));
    assert!(read_proc_cgroup(&dir, 1).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reads_own_cgroup() {
    // Whatever this process runs in, reading and parsing its own file works.
    let identity = read_proc_cgroup(Path::new("/proc"), std::process::id());
    assert!(identity.is_ok());
}
