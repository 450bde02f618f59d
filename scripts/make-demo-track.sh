#!/usr/bin/env bash
# Synthesises assets/demo-track.opus, the soundtrack of segments.example.yaml, from ffmpeg's own
# sources: a 120 BPM kick, off-beat hats, a bass line changing every 2 s and a pentatonic
# arpeggio from 4 s on; 20 s, stereo, Opus 64 kb/s. CC0 (see assets/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

D=20
KICK='0.9*sin(2*PI*(48+140*exp(-mod(t,0.5)*28))*mod(t,0.5))*exp(-mod(t,0.5)*8)'
HAT='0.035*(random(0)*2-1)*exp(-mod(t+0.25,0.5)*60)'
BASS='0.30*sin(2*PI*t*(55*eq(mod(floor(t/2),4),0)+43.65*eq(mod(floor(t/2),4),1)+65.41*eq(mod(floor(t/2),4),2)+49*eq(mod(floor(t/2),4),3)))*(0.55+0.45*exp(-mod(t,0.5)*5))'
MEL='st(1,mod(floor(t*4),8));st(2,if(eq(ld(1),0),0,if(eq(ld(1),1),3,if(eq(ld(1),2),5,if(eq(ld(1),3),7,if(eq(ld(1),4),10,if(eq(ld(1),5),7,if(eq(ld(1),6),5,3))))))));0.13*sin(2*PI*t*330*pow(2,ld(2)/12))*exp(-mod(t,0.25)*7)*gte(t,4)'
ffmpeg -v error -y -f lavfi -i "aevalsrc=exprs='$KICK':s=44100:d=$D" -f lavfi -i "aevalsrc=exprs='$HAT':s=44100:d=$D" -f lavfi -i "aevalsrc=exprs='$BASS':s=44100:d=$D" -f lavfi -i "aevalsrc=exprs='$MEL':s=44100:d=$D" \
 -filter_complex "[0][1][2][3]amix=inputs=4:normalize=0,afade=t=out:st=$((D-2)):d=2,alimiter=limit=0.9" -ac 2 -c:a libopus -b:a 64k assets/demo-track.opus
