// Lab host: brings a lab up and prints its endpoints (the lab helper fills this in).
return 0;
