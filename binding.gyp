{
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["-std=c++17", "-O3", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math", "-fexceptions"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-fno-math-errno", "-fno-trapping-math"]
    },
    "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
  },
  "targets": [
    {
      "target_name": "retinanet_loss",
      "type": "static_library",
      "sources": ["native/cpu/focal_loss.cpp", "native/cpu/gemm.cpp", "native/cpu/peak.cpp"],
      "cflags_cc": ["-ffp-contract=fast", "-Wno-psabi"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=fast"] }
    },
    {
      "target_name": "retinanet",
      "dependencies": ["retinanet_loss"],
      "sources": [
        "native/binding/addon.cpp",
        "native/binding/anchors.cpp",
        "native/binding/box_coding.cpp",
        "native/binding/box_iou.cpp",
        "native/binding/conv2d.cpp",
        "native/binding/elementwise.cpp",
        "native/binding/focal_loss.cpp",
        "native/binding/group_norm.cpp",
        "native/binding/match.cpp",
        "native/binding/max_pool.cpp",
        "native/binding/nms.cpp",
        "native/binding/postprocess.cpp",
        "native/binding/reduce_sum.cpp",
        "native/binding/sgd.cpp",
        "native/binding/targets.cpp",
        "native/binding/threads.cpp",
        "native/cpu/anchors.cpp",
        "native/cpu/box_coding.cpp",
        "native/cpu/box_iou.cpp",
        "native/cpu/conv2d.cpp",
        "native/cpu/elementwise.cpp",
        "native/cpu/group_norm.cpp",
        "native/cpu/match.cpp",
        "native/cpu/max_pool.cpp",
        "native/cpu/memory.cpp",
        "native/cpu/nms.cpp",
        "native/cpu/postprocess.cpp",
        "native/cpu/reduce_sum.cpp",
        "native/cpu/sgd.cpp",
        "native/cpu/targets.cpp",
        "native/cpu/thread_pool.cpp",
        "native/nocuda/cuda_stubs.cpp"
      ],
      "cflags_cc": ["-ffp-contract=off"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off"] }
    }
  ]
}
