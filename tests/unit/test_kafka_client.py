"""The Kafka client runs with its C checksum: the pure-Python CRC-32C took three quarters of a consumer's time."""

from kafka.record import util


def test_kafka_python_uses_the_c_crc32c():
    assert util.crc32c_c is not None, "install the crc32c package (a dependency in pyproject.toml)"
    assert util.calc_crc32c.__defaults__[0] is util.crc32c_c


def test_the_c_crc32c_gives_the_standard_check_value():
    # CRC-32C (Castagnoli) of "123456789" is 0xE3069283; the pure-Python one agrees.
    assert util.calc_crc32c(memoryview(b"123456789")) == 0xE3069283
    assert util.crc32c_py(b"123456789") == 0xE3069283
