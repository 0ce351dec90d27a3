// encodeBoxes / decodeBoxes on the CUDA device: one thread per box, float4 loads and stores.
#include "box_coding.cuh"

namespace retinanet {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) encode_kernel(const float4* __restrict__ anchors,
                                                          const float4* __restrict__ boxes, int64_t n,
                                                          BoxCoderWeights w, float4* __restrict__ out) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float4 a = anchors[i];
    const float4 b = boxes[i];
    const float av[4] = {a.x, a.y, a.z, a.w};
    const float bv[4] = {b.x, b.y, b.z, b.w};
    float o[4];
    cuda::encode_box_device(av, bv, w, o);
    out[i] = make_float4(o[0], o[1], o[2], o[3]);
  }
}

__global__ void __launch_bounds__(kThreads) decode_kernel(const float4* __restrict__ anchors,
                                                          const float4* __restrict__ deltas, int64_t n,
                                                          BoxCoderWeights w, float clip_h, float clip_w,
                                                          float4* __restrict__ out) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float4 a = anchors[i];
    const float4 d = deltas[i];
    const float av[4] = {a.x, a.y, a.z, a.w};
    const float dv[4] = {d.x, d.y, d.z, d.w};
    float o[4];
    cuda::decode_box_device(av, dv, w, clip_h, clip_w, o);
    out[i] = make_float4(o[0], o[1], o[2], o[3]);
  }
}

}  // namespace

Status encode_boxes_cuda(const float* anchors, const float* boxes, int64_t n, const BoxCoderWeights& w,
                         float* out) {
  if (n == 0) return Status::ok();
  cuda::Call call;
  RN_TRY(call.begin());
  cuda::Buffer<float> d_a, d_b, d_out;
  RN_TRY(cuda::upload(call, d_a, anchors, n * 4));
  RN_TRY(cuda::upload(call, d_b, boxes, n * 4));
  RN_TRY(d_out.alloc(call, n * 4));
  encode_kernel<<<cuda::blocks_for(n, kThreads), kThreads, 0, call.stream()>>>(
      reinterpret_cast<const float4*>(d_a.get()), reinterpret_cast<const float4*>(d_b.get()), n, w,
      reinterpret_cast<float4*>(d_out.get()));
  RN_LAUNCHED("encode_kernel");
  RN_TRY(cuda::download(call, out, d_out.get(), n * 4));
  return call.sync();
}

Status decode_boxes_cuda(const float* anchors, const float* deltas, int64_t n, const BoxCoderWeights& w,
                         float clip_h, float clip_w, float* out) {
  if (n == 0) return Status::ok();
  cuda::Call call;
  RN_TRY(call.begin());
  cuda::Buffer<float> d_a, d_d, d_out;
  RN_TRY(cuda::upload(call, d_a, anchors, n * 4));
  RN_TRY(cuda::upload(call, d_d, deltas, n * 4));
  RN_TRY(d_out.alloc(call, n * 4));
  decode_kernel<<<cuda::blocks_for(n, kThreads), kThreads, 0, call.stream()>>>(
      reinterpret_cast<const float4*>(d_a.get()), reinterpret_cast<const float4*>(d_d.get()), n, w,
      clip_h, clip_w, reinterpret_cast<float4*>(d_out.get()));
  RN_LAUNCHED("decode_kernel");
  RN_TRY(cuda::download(call, out, d_out.get(), n * 4));
  return call.sync();
}

}  // namespace retinanet
