package io.holdfast.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Base64TextTest {
    @Test
    void decodesWhatTheJdkDecodes() {
        assertThat(Base64Text.decode("aGk="))
                .hasValueSatisfying(
                        b -> assertThat(new String(b, StandardCharsets.UTF_8)).isEqualTo("hi"));
        assertThat(Base64Text.decode("")).hasValueSatisfying(b -> assertThat(b).isEmpty());
    }

    @Test
    void namesTheFirstCharacterOutsideTheAlphabetByPosition() {
        assertThat(Base64Text.decode("hi!x")).isEmpty();
        assertThat(Base64Text.whyNot("hi!x")).isEqualTo("'!' at character 3 is not a base64 character");
        assertThat(Base64Text.whyNot("a b")).isEqualTo("' ' at character 2 is not a base64 character");
    }

    @Test
    void aWrongLengthOrPaddingIsSaidSo() {
        assertThat(Base64Text.decode("a")).isEmpty();
        assertThat(Base64Text.whyNot("a")).isEqualTo("its length or its '=' padding is wrong");
        assertThat(Base64Text.decode("a===")).isEmpty();
        assertThat(Base64Text.whyNot("a===")).isEqualTo("its length or its '=' padding is wrong");
    }
}
