cell c : reduction {
    b0 = sep3x3(h0) + id(h1)
}
