network n {
    normal = nasnet_a_normal
    cells = 4 1056
}
