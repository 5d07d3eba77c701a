# smpp_common.pl -- helpers shared by the Net::SMPP interop peers (smsc.pl,
# esme.pl): bounded PDU reads, text decoding by data_coding, concatenation
# (UDH, SAR TLVs, message_payload) and machine-checkable output.
#
# Bounded reads: Net::SMPP's read_hard() installs its own local $SIG{ALRM}
# (an alarm there means "send enquire_link now") and calls alarm(0) after
# every sysread, so a caller's alarm() around read_pdu() is either cancelled
# or hijacked: it sends an enquire_link and then blocks in an unbounded
# synchronous wait_pdu(). So no alarm() here: every read is select() first
# (then read_pdu()), the socket has SO_RCVTIMEO/SO_SNDTIMEO (a partial PDU
# fails with EAGAIN instead of blocking), and each script has a whole-run
# deadline (set_deadline) that bounds every wait.
use strict;
use warnings;
use utf8;
use Encode ();
use IO::Select;
use Socket qw(SOL_SOCKET SO_RCVTIMEO SO_SNDTIMEO IPPROTO_TCP TCP_NODELAY);
use Time::HiRes ();
use Net::SMPP;

binmode STDOUT, ':encoding(UTF-8)';
binmode STDERR, ':encoding(UTF-8)';
$| = 1;
$SIG{PIPE} = 'IGNORE';    # a write to a closed peer fails with EPIPE instead

our $DEADLINE = Time::HiRes::time() + 30;    # whole run; see set_deadline

sub set_deadline { $DEADLINE = Time::HiRes::time() + $_[0] }

sub out { print join(' ', @_), "\n" }

sub fail {
    my ($msg) = @_;
    $msg =~ s/\s+$//;
    out("FAIL $msg");
    exit 1;
}

sub hex_of { return unpack('H*', $_[0] // '') }

# Bounded blocking I/O on a Net::SMPP socket, and TCP_NODELAY: Net::SMPP
# writes each PDU with its own syswrite and never sets TCP_NODELAY, so a
# resp followed at once by a request (write, write, read) waits for the
# peer's delayed ACK (~40 ms on Linux) on every exchange.
sub set_socket_opts {
    my ($sock, $secs) = @_;
    my $tv = pack('l!l!', $secs, 0);
    setsockopt($sock, SOL_SOCKET, SO_RCVTIMEO, $tv) or fail("SO_RCVTIMEO: $!");
    setsockopt($sock, SOL_SOCKET, SO_SNDTIMEO, $tv) or fail("SO_SNDTIMEO: $!");
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1) or fail("TCP_NODELAY: $!");
}

sub cmd_name {
    my ($cmd) = @_;
    my $t = Net::SMPP::pdu_tab->{$cmd};
    return $t ? $t->{cmd} : sprintf('cmd_0x%08x', $cmd);
}

# (pdu, undef): the next PDU within $timeout seconds (and before the global
# deadline); (undef, why): 'timeout', or Net::SMPP's error text (EOF, I/O).
sub next_pdu {
    my ($smpp, $timeout) = @_;
    my $left = $DEADLINE - Time::HiRes::time();
    $timeout = $left if $left < $timeout;
    return (undef, 'timeout') if $timeout <= 0 || !IO::Select->new($smpp)->can_read($timeout);
    my $pdu = $smpp->read_pdu();
    return (undef, ${*$smpp}{smpperror} // "read_pdu failed: $!") if !$pdu;
    out(sprintf('RECV %s seq=%u status=0x%x len=%u body=%s', cmd_name($pdu->{cmd}), $pdu->{seq},
                $pdu->{status}, 16 + length($pdu->{data}), hex_of($pdu->{data})));
    return ($pdu, undef);
}

# GSM 03.38 default alphabet and extension table, one septet per octet
# (SMPP carries data_coding 0 unpacked).
my @GSM = split //, '@£$¥èéùìòÇ' . "\n" . 'Øø' . "\r" . 'ÅåΔ_ΦΓΛΩΠΨΣΘΞ' . "\x{1b}" . 'ÆæßÉ'
    . ' !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§'
    . '¿abcdefghijklmnopqrstuvwxyzäöñüà';
my %GSM_EXT = (0x0A => "\f", 0x14 => '^', 0x28 => '{', 0x29 => '}', 0x2F => '\\', 0x3C => '[',
               0x3D => '~', 0x3E => ']', 0x40 => '|', 0x65 => '€');
die "GSM table has " . scalar(@GSM) . " entries" unless @GSM == 128;

sub decode_text {
    my ($dc, $bytes) = @_;
    if ($dc == 8) {
        fail('odd UCS-2 length ' . length($bytes) . ': ' . hex_of($bytes)) if length($bytes) % 2;
        return Encode::decode('UTF-16BE', $bytes, Encode::FB_CROAK | Encode::LEAVE_SRC);
    }
    if ($dc == 3) {
        return Encode::decode('iso-8859-1', $bytes);
    }
    if ($dc == 1) {
        fail('non-ASCII byte in IA5 text: ' . hex_of($bytes)) if $bytes =~ /[\x80-\xff]/;
        return $bytes;
    }
    fail("unexpected data_coding $dc") if $dc != 0;
    my @o = unpack('C*', $bytes);
    my $s = '';
    for (my $i = 0; $i < @o; $i++) {
        fail('GSM octet with the high bit set: ' . hex_of($bytes)) if $o[$i] > 0x7F;
        if ($o[$i] == 0x1B && $i + 1 < @o && exists $GSM_EXT{$o[$i + 1]}) {
            $s .= $GSM_EXT{$o[++$i]};
        } else {
            $s .= $GSM[$o[$i]];
        }
    }
    return $s;
}

# Text that is the same in GSM 03.38 (unpacked) and ASCII.
sub gsm_ascii_safe { return $_[0] =~ /\A[A-Za-z0-9 !"#%&'()*+,\-.\/:;<=>?\n\r]*\z/ }

# One SMS (a submit_sm or deliver_sm PDU) -> its place in a message:
#   { ref, total, seq, dc, data (user data without UDH), how }
sub sm_part {
    my ($pdu) = @_;
    my $dc = $pdu->{data_coding};
    my $sm = $pdu->{short_message} // '';
    my $payload = $pdu->{message_payload};
    if (defined $payload) {
        fail('both short_message and message_payload present') if length $sm;
        $sm = $payload;
    }
    my %p = (ref => 0, total => 1, seq => 1, dc => $dc, how => defined $payload ? 'payload' : 'single');
    my $has_sar = defined $pdu->{sar_msg_ref_num} || defined $pdu->{sar_total_segments}
        || defined $pdu->{sar_segment_seqnum};
    if ($pdu->{esm_class} & 0x40) {
        fail('UDHI and SAR TLVs together') if $has_sar;
        fail('UDHI set but no UDH') if length($sm) < 1;
        my $udhl = ord(substr($sm, 0, 1));
        fail("UDH length $udhl past the message") if $udhl + 1 > length($sm);
        my $udh = substr($sm, 1, $udhl);
        $sm = substr($sm, 1 + $udhl);
        $p{how} = 'udh';
        while (length $udh >= 2) {
            my ($iei, $iel) = unpack('CC', $udh);
            fail('truncated UDH IE') if 2 + $iel > length($udh);
            my $v = substr($udh, 2, $iel);
            if ($iei == 0x00 && $iel == 3) {
                @p{qw(ref total seq)} = unpack('CCC', $v);
            } elsif ($iei == 0x08 && $iel == 4) {
                @p{qw(ref total seq)} = unpack('nCC', $v);
                $p{how} = 'udh16';
            }
            $udh = substr($udh, 2 + $iel);
        }
    } elsif ($has_sar) {
        fail('incomplete SAR TLVs') unless defined $pdu->{sar_msg_ref_num}
            && defined $pdu->{sar_total_segments} && defined $pdu->{sar_segment_seqnum};
        fail('bad SAR TLV lengths') unless length($pdu->{sar_msg_ref_num}) == 2
            && length($pdu->{sar_total_segments}) == 1 && length($pdu->{sar_segment_seqnum}) == 1;
        $p{ref} = unpack('n', $pdu->{sar_msg_ref_num});
        $p{total} = unpack('C', $pdu->{sar_total_segments});
        $p{seq} = unpack('C', $pdu->{sar_segment_seqnum});
        $p{how} = 'sar';
    }
    fail("bad part numbers $p{seq}/$p{total}") if $p{total} < 1 || $p{seq} < 1 || $p{seq} > $p{total};
    $p{data} = $sm;
    return \%p;
}

# Reassembly keyed on source + destination + ref + total. add() returns
# undef while parts are missing, else (text, parts, dc, how).
my %pending;

sub reasm_add {
    my ($pdu) = @_;
    my $p = sm_part($pdu);
    if ($p->{total} == 1) {
        return (decode_text($p->{dc}, $p->{data}), 1, $p->{dc}, $p->{how});
    }
    my $key = join('|', $pdu->{source_addr}, $pdu->{destination_addr}, $p->{ref}, $p->{total});
    my $m = $pending{$key} //= { parts => {}, dc => $p->{dc} };
    fail("data_coding differs between parts of $key") if $m->{dc} != $p->{dc};
    fail("part $p->{seq} of $key received twice") if exists $m->{parts}{$p->{seq}};
    $m->{parts}{$p->{seq}} = $p->{data};
    return () if keys %{$m->{parts}} < $p->{total};
    delete $pending{$key};
    my $all = join('', map { $m->{parts}{$_} } 1 .. $p->{total});
    return (decode_text($m->{dc}, $all), $p->{total}, $m->{dc}, $p->{how});
}

sub reasm_pending { return scalar keys %pending }

1;
