//! `--device` and a grid's `device`: every spelling dmlft-train accepts, and a device that this
//! build or this machine cannot use is one clear error and exit 1 before any cell runs (no
//! failed cell records, no panic): the CUDA backend without an NVIDIA driver (this machine has
//! none), a backend not compiled in.

use crate::common::{seeds_grid, stderr, Fixture};

#[test]
fn unusable_devices_are_one_error_before_any_cell() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(1, ""));
    for device in ["cuda", "cuda:3", "wgpu", "wgpu:7"] {
        // The real executor: the device is checked before the grid runs.
        let out = fx
            .dmlft()
            .env_remove("DMLFT_TEST_FAKE_EXECUTOR")
            .args(["run", "g.toml", "--device", device])
            .output()
            .unwrap();
        let err = stderr(&out);
        let usable = (device.starts_with("cuda")
            && std::path::Path::new("/dev/nvidiactl").exists())
            || (device.starts_with("wgpu") && cfg!(feature = "wgpu"));
        if usable {
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{device}: {err}");
        let shown = device
            .parse::<dmlft_train::DeviceChoice>()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with(&format!("error: device `{shown}` is not available: ")),
            "{device}: {err}"
        );
        let feature = &device[..4];
        let compiled = [
            ("cuda", cfg!(feature = "cuda")),
            ("wgpu", cfg!(feature = "wgpu")),
        ]
        .contains(&(feature, true));
        if compiled {
            // CUDA compiled in, no driver here: the error names what is missing.
            assert!(err.contains("libcuda.so.1"), "{err}");
        } else {
            assert!(
                err.contains(&format!("built without the `{feature}` backend"))
                    && err.contains(&format!("--features {feature}")),
                "{err}"
            );
        }
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            !fx.cells_dir().parent().unwrap().exists(),
            "{device}: a results folder was created"
        );
    }
}

#[test]
fn device_spellings_come_from_one_list() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(1, ""));
    for device in ["cpu", "cpu-ndarray", "cuda", "cuda:1", "wgpu", "wgpu:0"] {
        let out = fx.run(&["plan", "g.toml", "--device", device, "--json"]);
        assert!(out.status.success(), "{device}: {}", stderr(&out));
    }
    let out = fx.run(&["plan", "g.toml", "--device", "gpu"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "unknown device `gpu`: valid are cpu, cpu-ndarray, cuda, cuda:N, wgpu, wgpu:N"
        ),
        "{}",
        stderr(&out)
    );
    // The grid key takes the same spellings.
    fx.write("w.toml", &seeds_grid(1, "device = \"wgpu:1\""));
    let out = fx.run(&["plan", "w.toml", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["device"], "wgpu:1");
}
