"""Does not compile."""


def conv2d_output_size(size, kernel_size stride=1):
    return size
