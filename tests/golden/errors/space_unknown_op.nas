space s {
    blocks = 5
    ops = id, sep3x3, sep9x9, avg_pool_3x3
    combine = add, mul
}
