//! Without a service account or a kubeconfig, the indexes are disabled instead of failing.
//! A file of its own: it changes the process environment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use attribution::kubernetes::{IpIndex, PodIndex};

#[test]
fn no_cluster_means_disabled_indexes() {
    let home = std::env::temp_dir().join(format!("attribution-no-kube-{}", std::process::id()));
    // SAFETY: set before any other thread of this test binary exists.
    unsafe {
        std::env::remove_var("KUBERNETES_SERVICE_HOST");
        std::env::remove_var("KUBERNETES_SERVICE_PORT");
        std::env::set_var("KUBECONFIG", home.join("missing-kubeconfig"));
        std::env::set_var("HOME", &home);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pods = PodIndex::from_environment(Some("node-a")).await;
        assert!(!pods.is_enabled());
        assert!(
            pods.lookup_pod_uid("6a1c2e3f-4b5d-4e6f-8a7b-9c0d1e2f3a4b")
                .is_none()
        );
        let ips = IpIndex::from_environment().await;
        assert!(!ips.is_enabled());
        assert!(ips.lookup("10.0.0.1".parse().unwrap()).is_none());
    });
}
