// Builds the precompiled header the test executables share.
int main() { return 0; }
