# An image with a serving stack of its own (`serve` on the PATH), as AWS's framework images
# have: sm_notebook must run it as `docker run IMAGE serve`, not mount its own server.
FROM smnb-test/sklearn:1
COPY serve /usr/local/bin/serve
