// The streaming pipeline (see convkit/pipeline.hpp).
#include "convkit/pipeline.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/parallel.hpp"

namespace convkit {

std::int64_t parse_memory_size(const std::string& text, const std::string& flag) {
  auto bad = [&] {
    return UsageError(flag + " '" + text +
                      "' is not a size in bytes (e.g. 512M, 2G, 1.5GiB, 100000000)");
  };
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) throw bad();
  double v = 0;
  try {
    std::size_t used = 0;
    v = std::stod(text.substr(0, i), &used);
    if (used != i) throw bad();
  } catch (const std::logic_error&) {
    throw bad();
  }
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'I') unit.pop_back();
  double scale = 1;
  if (unit == "K")
    scale = 1024.0;
  else if (unit == "M")
    scale = 1024.0 * 1024;
  else if (unit == "G")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "T")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty() && unit != "B")
    throw bad();
  const double bytes = v * scale;
  if (!(bytes >= 1) || bytes > 9e18) throw bad();
  return static_cast<std::int64_t>(bytes);
}

std::string format_memory_size(std::int64_t bytes) {
  if (bytes < (std::int64_t(1) << 20)) return std::to_string((bytes + 1023) >> 10) + " KiB";
  if (bytes < (std::int64_t(10) << 30))
    return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
  return std::to_string((bytes + (std::int64_t(1) << 30) - 1) >> 30) + " GiB";
}

Image filtered_shape(const Image& in, const PlaneFilter& f) {
  Image out;
  out.width = in.width;
  out.height = in.height;
  out.channels = in.channels;
  out.bit_depth = f.float_result ? (in.is_double() ? 64 : 32) : in.bit_depth;
  return out;
}

StreamGeometry same_size_geometry(const PlaneFilter& f) {
  StreamGeometry geo;
  geo.spec.correlate = true;
  geo.spec.mode = SizeMode::same;
  geo.spec.border = f.border;
  return geo;
}

namespace {
// Whether geo is the geometry of blur and edge (same_size_geometry): a
// centred window, stride 1, no bias, alpha copied.
bool is_same_size(const StreamGeometry& geo) {
  const ConvSpec& s = geo.spec;
  return s.correlate && s.mode == SizeMode::same && s.stride_y == 1 && s.stride_x == 1 &&
         geo.bias == 0 && geo.alpha_mask.empty() && !geo.filter_alpha;
}
}  // namespace

Image filtered_shape(const Image& in, const PlaneFilter& f, const StreamGeometry& geo) {
  Image out = filtered_shape(in, f);
  if (f.passes.empty()) return out;
  const ConvGeometry g = plan(geo.spec, in.height, in.width, f.passes[0].kh, f.passes[0].kw);
  out.width = g.out_w;
  out.height = g.out_h;
  return out;
}

std::int64_t whole_image_bytes(const Image& in, const PlaneFilter& f) {
  const std::int64_t px = static_cast<std::int64_t>(in.width) * in.height;
  const std::int64_t t = in.is_double() ? 8 : 4;
  // Decoded file samples (uint16) and its raw bytes, input and result planes,
  // the second pass's plane, the encoder's samples and raw bytes.
  return px * in.channels * (2 + 2 + 2 * t + 2 + 2) + (f.passes.size() > 1 ? px * t : 0);
}

namespace {

// Everything about one streamed run that does not depend on the data.
template <class T>
struct Plan {
  ConvGeometry g;
  std::vector<std::vector<T>> kernels;
  std::vector<Schedule> schedules;
  ConvGeometry ga;              // alpha's geometry when it has a kernel: correlation, value 0
  std::vector<T> alpha_kernel;  // empty: alpha copied (or filtered like colour)
  Schedule alpha_schedule = Schedule::direct;
  bool filter_alpha = false;
  T bias = 0;
  std::int64_t codec = 0;  // the decoder's and encoder's own buffers (TIFF tile rows)
  int align = 1;
  int band = 0;  // output rows per band
  std::int64_t bytes = 0;
  std::string why;
  std::vector<int> stash;  // input rows the vertical border reads
  bool prepass = false;    // the stash needs rows read before the first band's
};

// Input rows [lo, hi) of the image that output rows [m0, m1) read directly.
template <class T>
void band_input(const Plan<T>& p, long long m0, long long m1, long long& lo, long long& hi) {
  const ConvGeometry& g = p.g;
  lo = std::clamp<long long>(m0 * g.stride_y - g.pad.top, 0, g.in_h);
  hi = std::clamp<long long>((m1 - 1) * g.stride_y + g.k_h - g.pad.top, 0, g.in_h);
}

template <class T>
std::int64_t working_set(const Plan<T>& p, const Image& in, int band) {
  const std::int64_t w = in.width, ow = p.g.out_w, c = in.channels, t = sizeof(T);
  const std::int64_t ext = static_cast<std::int64_t>(band - 1) * p.g.stride_y + p.g.k_h;
  const std::int64_t threads = thread_count();
  std::int64_t b = 0;
  b += c * ext * w * t;                             // the window of input rows
  b += ext * w * t;                                 // one channel's extended band at the edges
  b += 2 * c * band * ow * t;                       // result bands: one computed, one being written
  b += (p.kernels.size() > 1 ? band * ow * t : 0);  // the second pass (gy)
  b += static_cast<std::int64_t>(p.stash.size()) * c * w * t;
  b += 2 * c * band * w * (t + 8 + 2);  // read-ahead: two chunks, decoder buffers
  b += c * band * ow * 8;               // the encoder's samples and bytes
  b += (ext + band) * w;                // 8-bit rows of the fixed-point passes
  // The engine's per-thread rows (direct/separable: KH + a band of rows;
  // FFT: a tile and its spectrum).
  std::int64_t engine = (p.g.k_h + 16) * (w + p.g.k_w + 128) * t * 2;
  std::vector<Schedule> all = p.schedules;
  if (!p.alpha_kernel.empty()) all.push_back(p.alpha_schedule);
  for (Schedule s : all)
    if (s == Schedule::fft)
      engine = std::max<std::int64_t>(
          engine, static_cast<std::int64_t>(p.align + p.g.k_h) * (w + p.g.k_w + 64) * 3 * t * 2);
  b += threads * engine;
  b += std::int64_t(4) << 20;  // codec state (zlib, libpng), stacks
  b += p.codec;
  return b;
}

template <class T>
Plan<T> make_plan(const Image& in, const PlaneFilter& f, const StreamGeometry& geo,
                  std::int64_t memory, int band_rows = 0, std::int64_t codec = 0) {
  if (f.passes.empty()) throw Error("stream_filter: the filter has no passes");
  if (f.filter_alpha) throw Error("stream_filter: alpha is copied, not filtered, by bands");
  Plan<T> p;
  const int kh = f.passes[0].kh, kw = f.passes[0].kw;
  for (const PlanePass& pass : f.passes)
    if (pass.kh != kh || pass.kw != kw)
      throw Error("stream_filter: the passes of a filter must have one kernel size");
  p.codec = codec;
  p.g = plan(geo.spec, in.height, in.width, kh, kw);
  for (const PlanePass& pass : f.passes) {
    p.kernels.emplace_back(pass.mask.begin(), pass.mask.end());
    const View<const T> k{p.kernels.back().data(), kh, kw, kw};
    p.schedules.push_back(pass.schedule == Schedule::automatic ? resolve_schedule(k, p.g)
                                                               : pass.schedule);
    const int a = band_alignment(p.g, p.schedules.back());
    p.align = std::lcm(p.align, a);
  }
  p.filter_alpha = geo.filter_alpha;
  p.bias = static_cast<T>(geo.bias);
  if (in.has_alpha() && !geo.filter_alpha && !geo.alpha_mask.empty()) {
    if (geo.alpha_mask.size() != static_cast<std::size_t>(kh) * kw)
      throw Error("stream_filter: the alpha kernel must have the filter's size");
    p.ga = p.g;
    p.ga.correlate = true;
    p.ga.border.value = 0;
    p.alpha_kernel.assign(geo.alpha_mask.begin(), geo.alpha_mask.end());
    p.alpha_schedule = resolve_schedule(View<const T>{p.alpha_kernel.data(), kh, kw, kw}, p.ga);
    p.align = std::lcm(p.align, band_alignment(p.ga, p.alpha_schedule));
  } else if (in.has_alpha() && !geo.filter_alpha &&
             (p.g.out_h != in.height || p.g.out_w != in.width || p.g.stride_y != 1)) {
    throw Error("stream_filter: alpha is copied only on a same-size geometry");
  }
  // The rows the vertical border copies.
  const ConvGeometry& g = p.g;
  std::set<int> rows, top;
  const long long ext_rows = static_cast<long long>(g.out_h - 1) * g.stride_y + g.k_h;
  for (long long r = 0; r < ext_rows; ++r) {
    const long long i = r - g.pad.top;
    if (i >= 0 && i < g.in_h) continue;
    const int s = border_index(i, g.in_h, g.border.rows);
    if (s < 0) continue;
    rows.insert(s);
    if (i < 0) top.insert(s);
  }
  p.stash.assign(rows.begin(), rows.end());
  // Band height: about 1 MiB of samples a band, at least the kernel height and
  // a few rows per thread, a multiple of the FFT tile; smaller when the
  // budget asks for it.
  const std::int64_t row_bytes = static_cast<std::int64_t>(in.width) * in.channels * sizeof(T);
  std::int64_t want = std::clamp<std::int64_t>((std::int64_t(1) << 20) / row_bytes, 8, 256);
  want = std::max<std::int64_t>({want, kh, 4 * thread_count()});
  if (band_rows > 0) want = band_rows;
  int band = static_cast<int>(std::min<std::int64_t>(want, g.out_h));
  band = (band + p.align - 1) / p.align * p.align;
  while (band > p.align && working_set(p, in, band) > memory)
    band = std::max(p.align, (band / 2 + p.align - 1) / p.align * p.align);
  p.band = std::min(band, std::max(g.out_h, 1));
  p.bytes = working_set(p, in, p.band);
  if (p.bytes > memory)
    p.why = "rows of " + std::to_string(in.width) + " x " + std::to_string(in.channels) +
            " samples, a " + std::to_string(kh) + "-row kernel" +
            (p.align > 1 ? " and FFT tiles of " + std::to_string(p.align) + " rows" : "") +
            (codec > 0 ? ", and the file's own buffers of " + format_memory_size(codec) +
                             " (a TIFF's row of tiles or strip)"
                       : "");
  // Circular padding (or a border reaching past the first band) reads rows
  // that come later in the file: they are collected by a first pass.
  long long lo0 = 0, hi0 = 0;
  band_input(p, 0, std::min(p.band, g.out_h), lo0, hi0);
  p.prepass = !top.empty() && *top.rbegin() >= hi0;
  return p;
}

// A helper thread and what it shares with the pipeline's thread: a lock, a
// condition, the first error it met, and the request to stop.
class Worker {
 protected:
  Worker() = default;
  ~Worker() { stop(); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  void stop() {
    {
      std::lock_guard<std::mutex> lk(m_);
      quit_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }
  // Record the current exception (called from the worker's catch block).
  void fail() {
    std::lock_guard<std::mutex> lk(m_);
    error_ = std::current_exception();
    cv_.notify_all();
  }

  bool quit_ = false;
  std::exception_ptr error_;
  std::mutex m_;
  std::condition_variable cv_;
  std::thread thread_;
};

// Hands result bands to the sink in order on its own thread (write-behind),
// two bands in flight: one being computed, one being written.
template <class T>
class WriteBehind : Worker {
 public:
  WriteBehind(RowSink& sink, int channels, std::size_t band_samples) : sink_(sink) {
    for (auto& s : sets_)
      s.assign(static_cast<std::size_t>(channels), std::vector<T>(band_samples));
    thread_ = std::thread([this] { loop(); });
  }
  ~WriteBehind() { stop(); }

  // The planes of a free band buffer (waits for the writer when both are busy).
  std::vector<std::vector<T>>& acquire() {
    std::unique_lock<std::mutex> lk(m_);
    cv_.wait(lk, [&] { return !busy_[next_] || error_; });
    if (error_) std::rethrow_exception(error_);
    return sets_[next_];
  }
  // Queue the band just filled (n rows of `stride` samples).
  void submit(int n, std::ptrdiff_t stride) {
    std::lock_guard<std::mutex> lk(m_);
    busy_[next_] = true;
    jobs_[next_] = {n, stride};
    order_.push_back(next_);
    next_ = 1 - next_;
    cv_.notify_all();
  }
  // Wait until every band is written; rethrows the writer's error.
  void drain() {
    std::unique_lock<std::mutex> lk(m_);
    cv_.wait(lk, [&] { return order_.empty() || error_; });
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void loop() {
    for (;;) {
      int k;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return !order_.empty() || quit_; });
        if (order_.empty()) return;
        k = order_.front();
      }
      try {
        std::vector<const T*> planes;
        for (auto& p : sets_[k]) planes.push_back(p.data());
        sink_.write(jobs_[k].first, planes.data(), jobs_[k].second);
      } catch (...) {
        fail();
        return;
      }
      std::lock_guard<std::mutex> lk(m_);
      busy_[k] = false;
      order_.erase(order_.begin());
      cv_.notify_all();
    }
  }
  RowSink& sink_;
  std::vector<std::vector<T>> sets_[2];
  std::pair<int, std::ptrdiff_t> jobs_[2];
  bool busy_[2] = {false, false};
  std::vector<int> order_;
  int next_ = 0;
};

// Decodes the next chunk of rows on its own thread while the previous one
// is used (read-ahead).  take() returns rows in order.
template <class T>
class ReadAhead : Worker {
 public:
  ReadAhead(RowSource& src, int chunk_rows) : src_(src), chunk_(chunk_rows) {
    const std::size_t n = static_cast<std::size_t>(chunk_rows) * src.width();
    for (auto& s : slots_)
      s.planes.assign(static_cast<std::size_t>(src.channels()), std::vector<T>(n));
    thread_ = std::thread([this] { loop(); });
  }
  ~ReadAhead() { stop(); }

  // Copy the next n rows into dst[c] + row * stride.
  void take(int n, T* const* dst, std::ptrdiff_t stride) {
    const std::size_t w = static_cast<std::size_t>(src_.width());
    int done = 0;
    while (done < n) {
      Slot& s = slots_[cur_];
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return s.rows > 0 || error_; });
        if (s.rows == 0 && error_) std::rethrow_exception(error_);
      }
      const int k = std::min(n - done, s.rows - used_);
      for (std::size_t c = 0; c < s.planes.size(); ++c)
        for (int y = 0; y < k; ++y)
          std::memcpy(dst[c] + (done + y) * stride, s.planes[c].data() + (used_ + y) * w,
                      w * sizeof(T));
      done += k;
      used_ += k;
      if (used_ == s.rows) {
        std::lock_guard<std::mutex> lk(m_);
        s.rows = 0;
        used_ = 0;
        cur_ = 1 - cur_;
        cv_.notify_all();
      }
    }
  }

 private:
  struct Slot {
    std::vector<std::vector<T>> planes;
    int rows = 0;  // rows held; 0: free
  };
  void loop() {
    int k = 0;
    while (src_.next_row() < src_.height()) {
      Slot& s = slots_[k];
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return s.rows == 0 || quit_; });
        if (quit_) return;
      }
      const int n = std::min(chunk_, src_.height() - src_.next_row());
      try {
        std::vector<T*> planes;
        for (auto& p : s.planes) planes.push_back(p.data());
        src_.read(n, planes.data(), src_.width());
      } catch (...) {
        fail();
        return;
      }
      std::lock_guard<std::mutex> lk(m_);
      s.rows = n;
      k = 1 - k;
      cv_.notify_all();
    }
  }

  RowSource& src_;
  int chunk_;
  Slot slots_[2];
  int cur_ = 0, used_ = 0;
};

template <class T>
bool all_finite(const T* p, std::size_t n) {
  T acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc += p[i] - p[i];
  return acc == 0;
}

template <class T>
void run_stream(RowSource& src, const PlaneFilter& f, const StreamGeometry& geo, RowSink& sink,
                std::int64_t memory, int band_rows) {
  const Image shape = src.shape();
  Plan<T> p =
      make_plan<T>(shape, f, geo, memory, band_rows, src.buffer_bytes() + sink.buffer_bytes());
  if (p.bytes > memory)
    throw Error("cannot stream this image within --memory " + format_memory_size(memory) +
                ": it needs about " + format_memory_size(p.bytes) + " (" + p.why +
                "); raise --memory");
  const ConvGeometry& g = p.g;
  const int W = shape.width, H = shape.height, C = shape.channels;
  const int colour = shape.has_alpha() ? C - 1 : C;
  const std::size_t w = static_cast<std::size_t>(W), ow = static_cast<std::size_t>(g.out_w);
  std::vector<std::vector<T>> stash(p.stash.size());  // rows of all channels, planar
  auto stash_slot = [&](int row) -> std::vector<T>* {
    auto it = std::lower_bound(p.stash.begin(), p.stash.end(), row);
    return it != p.stash.end() && *it == row ? &stash[it - p.stash.begin()] : nullptr;
  };
  auto keep_row = [&](int row, const std::vector<std::vector<T>>& planes, std::size_t at) {
    if (std::vector<T>* s = stash_slot(row)) {
      s->resize(w * C);
      for (int c = 0; c < C; ++c)
        std::memcpy(s->data() + c * w, planes[c].data() + at * w, w * sizeof(T));
    }
  };

  // A first pass when the border needs rows from the far end, or the FFT
  // runs on float data: conv2d steps back to the direct loops for a plane
  // holding a NaN or infinity, and so must the bands.
  bool fft = false;
  for (Schedule s : p.schedules) fft |= s == Schedule::fft;
  fft |= !p.alpha_kernel.empty() && p.alpha_schedule == Schedule::fft;
  const bool check_finite = fft && shape.is_float();
  std::vector<char> finite(static_cast<std::size_t>(C), 1);
  if (p.prepass || check_finite) {
    std::vector<std::vector<T>> chunk(C, std::vector<T>(static_cast<std::size_t>(p.band) * w));
    std::vector<T*> ptrs;
    for (auto& c : chunk) ptrs.push_back(c.data());
    while (src.next_row() < H) {
      const int y0 = src.next_row(), n = std::min(p.band, H - y0);
      src.read(n, ptrs.data(), W);
      for (int y = 0; y < n; ++y) keep_row(y0 + y, chunk, static_cast<std::size_t>(y));
      if (check_finite)
        for (int c = 0; c < C; ++c)
          if (finite[c] && !all_finite(chunk[c].data(), static_cast<std::size_t>(n) * w))
            finite[c] = 0;
    }
    src.rewind();
  }

  // The window: input rows [wlo, whi) of every channel, planar, contiguous.
  const int cap = (p.band - 1) * g.stride_y + g.k_h;
  std::vector<std::vector<T>> win(C, std::vector<T>(static_cast<std::size_t>(cap) * w));
  long long wlo = 0, whi = 0;
  std::vector<T> ext(static_cast<std::size_t>(cap) * w), gy;
  if (p.kernels.size() > 1) gy.resize(static_cast<std::size_t>(p.band) * ow);
  // 8-bit input on the same-size geometry (blur, edge): the passes in fixed
  // point when they have plans (as apply_plane_filter), on the band's rows as
  // 8-bit samples.
  std::vector<FixedSeparable> fixed;
  if constexpr (std::is_same_v<T, float>)
    if (shape.bit_depth == 8 && is_same_size(geo)) fixed = fixed_point_plans(f);
  std::vector<std::uint8_t> ext8, out8;
  std::vector<const std::uint8_t*> rows8(static_cast<std::size_t>(cap));
  if (!fixed.empty()) {
    ext8.resize(static_cast<std::size_t>(cap) * w);
    if (!f.float_result) out8.resize(static_cast<std::size_t>(p.band) * w);
  }
  ReadAhead<T> reader(src, std::max(p.band, 1));
  WriteBehind<T> writer(sink, C, static_cast<std::size_t>(p.band) * ow);

  for (long long m0 = 0; m0 < g.out_h; m0 += p.band) {
    const long long m1 = std::min<long long>(g.out_h, m0 + p.band);
    const int n = static_cast<int>(m1 - m0);
    long long lo, hi;
    band_input(p, m0, m1, lo, hi);
    // Slide the window: drop rows before lo, read up to hi.
    while (whi < lo) {  // a stride longer than the kernel: rows no output reads
      const int k = static_cast<int>(std::min<long long>(lo - whi, cap));
      std::vector<T*> dst;
      for (auto& pl : win) dst.push_back(pl.data());
      reader.take(k, dst.data(), W);
      for (int r = 0; r < k; ++r) keep_row(static_cast<int>(whi + r), win, r);
      wlo = whi = whi + k;
    }
    if (lo > wlo) {
      const long long drop = lo - wlo;
      for (auto& pl : win)
        std::memmove(pl.data(), pl.data() + drop * w,
                     static_cast<std::size_t>(whi - lo) * w * sizeof(T));
      wlo = lo;
    }
    if (hi > whi) {
      std::vector<T*> dst;
      for (auto& pl : win) dst.push_back(pl.data() + (whi - wlo) * w);
      reader.take(static_cast<int>(hi - whi), dst.data(), W);
      for (long long r = whi; r < hi; ++r)
        keep_row(static_cast<int>(r), win, static_cast<std::size_t>(r - wlo));
      whi = hi;
    }
    // Rows skipped by a band (none for same-size filters) would still be read
    // in order; the window holds [wlo, whi) = [lo, hi) now.
    const long long e0 = m0 * g.stride_y;
    const int erows = static_cast<int>((m1 - 1 - m0) * g.stride_y + g.k_h);
    const bool inside = e0 - g.pad.top >= 0 && e0 - g.pad.top + erows <= H;
    auto& out = writer.acquire();
    for (int c = 0; c < C; ++c) {
      T* dst = out[c].data();
      const bool filtered = c < colour || p.filter_alpha;
      const ConvGeometry& gc = filtered ? g : p.ga;
      if (!filtered && p.alpha_kernel.empty()) {  // alpha passes through: row m is input row m
        if (m0 < wlo || m1 > whi) throw Error("stream_filter: alpha rows outside the window");
        std::memcpy(dst, win[c].data() + (m0 - wlo) * w,
                    static_cast<std::size_t>(n) * w * sizeof(T));
        continue;
      }
      const T* base;
      if (inside) {
        base = win[c].data() + (e0 - g.pad.top - wlo) * w;
      } else {  // the band reaches past the top or bottom: build its rows
        for (int i = 0; i < erows; ++i) {
          T* row = ext.data() + i * w;
          const int s = border_index(e0 + i - g.pad.top, H, g.border.rows);
          if (s < 0) {
            std::fill(row, row + w, static_cast<T>(gc.border.value));
          } else if (s >= wlo && s < whi) {
            std::memcpy(row, win[c].data() + (s - wlo) * w, w * sizeof(T));
          } else {
            std::vector<T>* kept = stash_slot(s);
            if (!kept || kept->empty())
              throw Error("stream_filter: border row " + std::to_string(s) + " was not kept");
            std::memcpy(row, kept->data() + c * w, w * sizeof(T));
          }
        }
        base = ext.data();
      }
      if constexpr (std::is_same_v<T, float>) {
        if (filtered && !fixed.empty()) {
          const std::size_t cnt = static_cast<std::size_t>(erows) * w;
          for (std::size_t i = 0; i < cnt; ++i) ext8[i] = static_cast<std::uint8_t>(base[i]);
          for (int i = 0; i < erows; ++i) rows8[i] = ext8.data() + i * w;
          const auto value = static_cast<std::uint8_t>(g.border.value);
          if (f.float_result) {
            for (std::size_t k = 0; k < fixed.size(); ++k)
              fixed[k].run(rows8.data(), g.border.cols, value,
                           Pixels<float>{k == 0 ? dst : gy.data(), n, W, 1, W});
            if (fixed.size() > 1)
              combine_passes(dst, gy.data(), static_cast<std::size_t>(n) * w, f);
          } else {
            fixed[0].run(rows8.data(), g.border.cols, value,
                         Pixels<std::uint8_t>{out8.data(), n, W, 1, W});
            std::copy(out8.begin(), out8.begin() + static_cast<std::ptrdiff_t>(n) * W, dst);
          }
          continue;
        }
      }
      const View<const T> in{base, erows, W, W};
      const int OW = g.out_w;
      if (!filtered) {  // alpha sampled by its own kernel
        Schedule s = p.alpha_schedule;
        if (s == Schedule::fft && !finite[c]) s = Schedule::direct;
        conv2d_band<T>(in, View<const T>{p.alpha_kernel.data(), g.k_h, g.k_w, g.k_w}, p.ga,
                       static_cast<int>(m0), View<T>{dst, n, OW, OW}, s);
        continue;
      }
      for (std::size_t k = 0; k < p.kernels.size(); ++k) {
        Schedule s = p.schedules[k];
        if (s == Schedule::fft && !finite[c]) s = Schedule::direct;
        T* o = k == 0 ? dst : gy.data();
        conv2d_band<T>(in, View<const T>{p.kernels[k].data(), g.k_h, g.k_w, g.k_w}, g,
                       static_cast<int>(m0), View<T>{o, n, OW, OW}, s);
      }
      if (p.kernels.size() > 1) combine_passes(dst, gy.data(), static_cast<std::size_t>(n) * ow, f);
      if (p.bias != T(0))
        for (std::size_t i = 0; i < static_cast<std::size_t>(n) * ow; ++i) dst[i] += p.bias;
    }
    writer.submit(n, g.out_w);
  }
  writer.drain();
}

}  // namespace

StreamPlan plan_stream(const Image& in, const PlaneFilter& f, std::int64_t memory) {
  return with_sample_type(in, [&](auto t) {
    const Plan<decltype(t)> p = make_plan<decltype(t)>(in, f, same_size_geometry(f), memory);
    return StreamPlan{p.band, p.bytes, p.why};
  });
}

void stream_filter(RowSource& src, const PlaneFilter& f, RowSink& sink, std::int64_t memory,
                   int band_rows) {
  stream_filter(src, f, same_size_geometry(f), sink, memory, band_rows);
}

void stream_filter(RowSource& src, const PlaneFilter& f, const StreamGeometry& geo, RowSink& sink,
                   std::int64_t memory, int band_rows) {
  if (src.next_row() != 0) src.rewind();
  if (src.bit_depth() == 64)
    run_stream<double>(src, f, geo, sink, memory, band_rows);
  else
    run_stream<float>(src, f, geo, sink, memory, band_rows);
}

template <class T>
void RangeSink::widen(int n, const T* const* planes, std::ptrdiff_t stride) {
  for (int c = 0; c < colour_; ++c)
    for (int y = 0; y < n; ++y) {
      const T* p = planes[c] + y * stride;
      for (int x = 0; x < width_; ++x) {
        const double v = p[x];
        if (std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      }
    }
}

void RangeSink::write(int n, const float* const* planes, std::ptrdiff_t stride) {
  widen(n, planes, stride);
}
void RangeSink::write(int n, const double* const* planes, std::ptrdiff_t stride) {
  widen(n, planes, stride);
}

}  // namespace convkit
