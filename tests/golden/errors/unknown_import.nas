import nasnet_a_reduse
import "no/such/file.nas"
import enas_normal

network n {
    normal = enas_normal
    cells = 2 @ 100
}
