//! Strided matrix views over host buffers and the one call into the `gemm` crate that the linear
//! and attention kernels share.

use super::route::FlexTensor;

/// A read-only `rows x cols` matrix at `ptr` with strides in elements. Views are cheap copies;
/// the buffer they point into must outlive them (the kernels keep it borrowed or owned).
#[derive(Clone, Copy)]
pub(crate) struct View {
    pub ptr: *const f32,
    pub rows: usize,
    pub cols: usize,
    pub row_stride: isize,
    pub col_stride: isize,
}

// SAFETY: a View is a read-only pointer into a buffer that the kernel keeps alive and does not
// write while views of it exist; rayon tasks only read through it.
unsafe impl Send for View {}
unsafe impl Sync for View {}

impl View {
    /// The whole of a 2-D Flex f32 tensor (any strides).
    pub(crate) fn of(tensor: &FlexTensor) -> Self {
        let layout = tensor.layout();
        let (shape, strides) = (layout.shape(), layout.strides());
        assert_eq!(shape.num_dims(), 2, "kernels::gemm: a 2-D tensor");
        let data = &tensor.storage::<f32>()[layout.start_offset()..];
        Self {
            ptr: data.as_ptr(),
            rows: shape[0],
            cols: shape[1],
            row_stride: strides[0],
            col_stride: strides[1],
        }
    }

    /// `rows x cols` at `offset` of a row-major buffer with `row_stride` elements per row.
    pub(crate) fn block(
        data: &[f32],
        offset: usize,
        rows: usize,
        cols: usize,
        row_stride: usize,
    ) -> Self {
        assert!(rows == 0 || offset + (rows - 1) * row_stride + cols <= data.len());
        Self {
            ptr: data[offset..].as_ptr(),
            rows,
            cols,
            row_stride: row_stride as isize,
            col_stride: 1,
        }
    }

    pub(crate) fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// A writable `rows x cols` destination with a row stride (columns contiguous).
#[derive(Clone, Copy)]
pub(crate) struct Dst {
    pub ptr: *mut f32,
    pub row_stride: usize,
}

// SAFETY: the kernels give each rayon task a disjoint set of destination elements.
unsafe impl Send for Dst {}
unsafe impl Sync for Dst {}

impl Dst {
    pub(crate) fn at(self, offset: usize) -> Self {
        // SAFETY: callers stay within the buffer (checked by the kernels' shapes).
        Self {
            ptr: unsafe { self.ptr.add(offset) },
            ..self
        }
    }
}

/// `dst = lhs x rhs`, or `dst += lhs x rhs` with `accumulate`.
///
/// # Safety
/// `dst` must be valid for writes of `lhs.rows` rows of `rhs.cols` values at its row stride,
/// initialised when `accumulate` (gemm does not read it otherwise), and not written by anyone
/// else meanwhile; `lhs` and `rhs` must describe live buffers.
pub(crate) unsafe fn gemm_into(dst: Dst, lhs: View, rhs: View, accumulate: bool, parallel: bool) {
    assert_eq!(lhs.cols, rhs.rows, "kernels::gemm: inner dimensions");
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    // Below ~200^3 multiply-adds splitting one product across threads costs more than it saves.
    let parallelism = if parallel && m * n * k >= 192 * 192 * 192 {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: forwarded from the caller.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.ptr,
            1,
            dst.row_stride as isize,
            accumulate,
            lhs.ptr,
            lhs.col_stride,
            lhs.row_stride,
            rhs.ptr,
            rhs.col_stride,
            rhs.row_stride,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// A row-major `lhs.rows x rhs.cols` product in a new buffer that gemm writes once.
pub(crate) fn product(lhs: View, rhs: View) -> Vec<f32> {
    let len = lhs.rows * rhs.cols;
    let mut out = Vec::<f32>::with_capacity(len);
    let dst = Dst {
        ptr: out.as_mut_ptr(),
        row_stride: rhs.cols,
    };
    // SAFETY: gemm writes all `len` values (no accumulate, so it never reads them) before
    // `set_len` makes them visible.
    unsafe {
        gemm_into(dst, lhs, rhs, false, true);
        out.set_len(len);
    }
    out
}
