"""IEEE 11073-20601 over TCP: the manager (`serve x73`) and a simulated agent (`simulate x73-*`)."""
