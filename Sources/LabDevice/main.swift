print("lab device")
